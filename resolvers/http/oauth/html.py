"""The built-in sign-in and consent pages: plain server-rendered HTML, no inline script,
no external asset, every value escaped; strings in one table so they can be translated.
The one script (the passkey button's) is Gatehouse's own file, on the sign-in page only."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

STRINGS = {
    "sign_in": "Sign in",
    "email": "Email",
    "password": "Password",
    "continue": "Continue",
    "code": "Authentication code",
    "code_help": "Enter the 6-digit code from your authenticator app.",
    "consent_title": "Allow {client} to use your account?",
    "consent_lead": "{client} is asking for:",
    "allow": "Allow",
    "deny": "Deny",
    "error_title": "This sign-in cannot continue",
    "to": "to continue to {client}",
    "sign_out_title": "Sign out of Gatehouse?",
    "sign_out_lead": "You will be signed out of every app you signed in to from here.",
    "sign_out_from": "{client} asked to sign you out.",
    "sign_out": "Sign out",
    "stay": "Stay signed in",
    "signed_out_title": "You are signed out",
    "signed_out_lead": "You can close this page.",
    "still_signed_in_title": "You are still signed in",
    "device_title": "Connect a device",
    "device_lead": "Enter the code your device shows.",
    "device_code": "Code",
    "device_approve_title": "Allow {client} on your device?",
    "device_check": "Only continue if your device shows this code: {code}",
    "device_signed_in_as": "Signed in as {email}",
    "device_approved_title": "Your device is connected",
    "device_denied_title": "Your device was not connected",
    "device_return": "You can return to your device.",
    "social_or": "Or sign in with another account",
    "passkey_button": "Sign in with a passkey",
    "passkey_failed": "The passkey sign-in did not finish. Try again, or use your password.",
    "social_button": "Continue with {provider}",
    "social_link_required": (
        "An account with this email address already exists. Sign in to it here, then "
        "link {provider} in your account settings."
    ),
}
SCOPE_TEXT = {
    "openid": "Know who you are",
    "profile": "Your name",
    "email": "Your email address",
    "offline_access": "Stay signed in to it when you are away",
}


@dataclass(frozen=True, slots=True)
class PasskeyButton:
    begin: str  # where the script fetches the request options
    action: str  # where the assertion is posted
    script: str  # the script's own path


def page_csp(redirect_uris: list[str], *, script: bool = False) -> str:
    """No style or frame, no script but (``script``) Gatehouse's own files and their
    fetches to this origin; forms post only here and (through the redirect that follows
    them) to the client's own redirect origins."""
    origins = sorted(
        {
            f"{p.scheme}://{p.netloc}"
            for p in map(urlsplit, redirect_uris)
            if p.scheme in ("http", "https")
        }
    )
    scripts = "script-src 'self'; connect-src 'self'; " if script else ""
    return (
        f"default-src 'none'; {scripts}base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self' {' '.join(origins)}".rstrip()
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title></head><body><main>{body}</main></body></html>"
    )


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def _error(message: str | None) -> str:
    return f'<p role="alert" id="error">{escape(message)}</p>' if message else ""


def login_page(
    client_name: str,
    action: str,
    hidden: dict[str, str],
    error: str | None,
    email: str = "",
    social: list[tuple[str, str]] | None = None,
    passkey: PasskeyButton | None = None,
) -> str:
    """``social``: (form action, provider's display name) of each provider's button."""
    s = STRINGS
    body = (
        f"<h1>{escape(s['sign_in'])}</h1><p>{escape(s['to'].format(client=client_name))}</p>"
        f'{_error(error)}<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<p><label for="email">{escape(s["email"])}</label><br>'
        '<input id="email" name="email" type="email" autocomplete="username" required '
        f'value="{escape(email)}"></p>'
        f'<p><label for="password">{escape(s["password"])}</label><br>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required></p>'
        f'<p><button type="submit">{escape(s["continue"])}</button></p></form>'
        f"{_passkey_button(passkey, hidden)}{_social_buttons(social or [], hidden)}"
    )
    return _page(s["sign_in"], body)


def _passkey_button(passkey: PasskeyButton | None, hidden: dict[str, str]) -> str:
    """Hidden until the script finds WebAuthn in the browser; the assertion goes in a
    plain form post, so the answer is a page or a redirect like the password form's."""
    if passkey is None:
        return ""
    return (
        f'<form id="passkey-form" method="post" action="{escape(passkey.action)}">'
        f"{_hidden({**hidden, 'attempt': '', 'credential': ''})}"
        f'<p><button type="button" id="passkey-sign-in" hidden '
        f'data-begin="{escape(passkey.begin)}">{escape(STRINGS["passkey_button"])}</button></p>'
        f'<p id="passkey-status" role="alert" hidden '
        f'data-failed="{escape(STRINGS["passkey_failed"])}"></p></form>'
        f'<script src="{escape(passkey.script)}" defer></script>'
    )


def _social_buttons(social: list[tuple[str, str]], hidden: dict[str, str]) -> str:
    if not social:
        return ""
    forms = "".join(
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<button type="submit">{escape(STRINGS["social_button"].format(provider=label))}'
        "</button></form>"
        for action, label in social
    )
    return (
        f'<section aria-labelledby="social-heading"><h2 id="social-heading">'
        f"{escape(STRINGS['social_or'])}</h2>{forms}</section>"
    )


def mfa_page(client_name: str, action: str, hidden: dict[str, str], error: str | None) -> str:
    s = STRINGS
    body = (
        f"<h1>{escape(s['sign_in'])}</h1><p>{escape(s['to'].format(client=client_name))}</p>"
        f'{_error(error)}<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<p><label for="code">{escape(s["code"])}</label><br>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required '
        f'aria-describedby="code-help"></p><p id="code-help">{escape(s["code_help"])}</p>'
        f'<p><button type="submit">{escape(s["continue"])}</button></p></form>'
    )
    return _page(s["sign_in"], body)


def consent_page(client_name: str, scopes: list[str], action: str, hidden: dict[str, str]) -> str:
    s = STRINGS
    items = "".join(f"<li>{escape(SCOPE_TEXT.get(scope, scope))}</li>" for scope in scopes)
    body = (
        f"<h1>{escape(s['consent_title'].format(client=client_name))}</h1>"
        f"<p>{escape(s['consent_lead'].format(client=client_name))}</p><ul>{items}</ul>"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<button type="submit" name="decision" value="allow">{escape(s["allow"])}</button> '
        f'<button type="submit" name="decision" value="deny">{escape(s["deny"])}</button></form>'
    )
    return _page(s["consent_title"].format(client=client_name), body)


def error_page(message: str) -> str:
    return _page(
        STRINGS["error_title"], f"<h1>{escape(STRINGS['error_title'])}</h1>{_error(message)}"
    )


def logout_page(client_name: str | None, action: str, hidden: dict[str, str]) -> str:
    s = STRINGS
    asked = f"<p>{escape(s['sign_out_from'].format(client=client_name))}</p>" if client_name else ""
    body = (
        f"<h1>{escape(s['sign_out_title'])}</h1>{asked}<p>{escape(s['sign_out_lead'])}</p>"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<button type="submit" name="decision" value="logout">{escape(s["sign_out"])}</button> '
        f'<button type="submit" name="decision" value="stay">{escape(s["stay"])}</button></form>'
    )
    return _page(s["sign_out_title"], body)


def notice_page(title_key: str, lead_key: str = "signed_out_lead") -> str:
    """A page that only says what happened (``signed_out_title``, ...)."""
    s = STRINGS
    body = f"<h1>{escape(s[title_key])}</h1><p>{escape(s[lead_key])}</p>"
    return _page(s[title_key], body)


def device_code_page(action: str, user_code: str, error: str | None) -> str:
    s = STRINGS
    body = (
        f"<h1>{escape(s['device_title'])}</h1><p>{escape(s['device_lead'])}</p>"
        f'{_error(error)}<form method="post" action="{escape(action)}">'
        f'<p><label for="user_code">{escape(s["device_code"])}</label><br>'
        '<input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" '
        f'spellcheck="false" required value="{escape(user_code)}"></p>'
        f'<p><button type="submit">{escape(s["continue"])}</button></p></form>'
    )
    return _page(s["device_title"], body)


def device_approve_page(
    client_name: str,
    scopes: list[str],
    user_code: str,
    email: str,
    action: str,
    hidden: dict[str, str],
) -> str:
    """RFC 8628 §5.4: the code is shown again, so a person sent someone else's code
    (remote phishing) can notice before approving."""
    s = STRINGS
    items = "".join(f"<li>{escape(SCOPE_TEXT.get(scope, scope))}</li>" for scope in scopes)
    body = (
        f"<h1>{escape(s['device_approve_title'].format(client=client_name))}</h1>"
        f"<p><strong>{escape(s['device_check'].format(code=user_code))}</strong></p>"
        f"<p>{escape(s['consent_lead'].format(client=client_name))}</p><ul>{items}</ul>"
        f"<p>{escape(s['device_signed_in_as'].format(email=email))}</p>"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<button type="submit" name="decision" value="allow">{escape(s["allow"])}</button> '
        f'<button type="submit" name="decision" value="deny">{escape(s["deny"])}</button></form>'
    )
    return _page(s["device_approve_title"].format(client=client_name), body)
