"""The built-in sign-in and consent pages: plain server-rendered HTML, no inline script,
no external asset, every value escaped; every word from the request's catalogue
(catalogue.py), whose language the page's ``lang`` names. Every field has its label and
every error is announced (``role="alert"``). The one script (the passkey button's) is
Gatehouse's own file, on the sign-in page only."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from resolvers.http.oauth.catalogue import Catalogue


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


def _page(t: Catalogue, title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{escape(t.lang)}"><head><meta charset="utf-8">'
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
    t: Catalogue,
    client_name: str,
    action: str,
    hidden: dict[str, str],
    error: str | None,
    email: str = "",
    social: list[tuple[str, str]] | None = None,
    passkey: PasskeyButton | None = None,
) -> str:
    """``social``: (form action, provider's display name) of each provider's button."""
    body = (
        f"<h1>{escape(t.text('sign_in'))}</h1>"
        f"<p>{escape(t.text('to', client=client_name))}</p>"
        f'{_error(error)}<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<p><label for="email">{escape(t.text("email"))}</label><br>'
        '<input id="email" name="email" type="email" autocomplete="username" required '
        f'value="{escape(email)}"></p>'
        f'<p><label for="password">{escape(t.text("password"))}</label><br>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required></p>'
        f'<p><button type="submit">{escape(t.text("continue"))}</button></p></form>'
        f"{_passkey_button(t, passkey, hidden)}{_social_buttons(t, social or [], hidden)}"
    )
    return _page(t, t.text("sign_in"), body)


def _passkey_button(t: Catalogue, passkey: PasskeyButton | None, hidden: dict[str, str]) -> str:
    """Hidden until the script finds WebAuthn in the browser; the assertion goes in a
    plain form post, so the answer is a page or a redirect like the password form's."""
    if passkey is None:
        return ""
    return (
        f'<form id="passkey-form" method="post" action="{escape(passkey.action)}">'
        f"{_hidden({**hidden, 'attempt': '', 'credential': ''})}"
        f'<p><button type="button" id="passkey-sign-in" hidden '
        f'data-begin="{escape(passkey.begin)}">{escape(t.text("passkey_button"))}</button></p>'
        f'<p id="passkey-status" role="alert" hidden '
        f'data-failed="{escape(t.text("passkey_failed"))}"></p></form>'
        f'<script src="{escape(passkey.script)}" defer></script>'
    )


def _social_buttons(t: Catalogue, social: list[tuple[str, str]], hidden: dict[str, str]) -> str:
    if not social:
        return ""
    forms = "".join(
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<button type="submit">{escape(t.text("social_button", provider=label))}'
        "</button></form>"
        for action, label in social
    )
    return (
        f'<section aria-labelledby="social-heading"><h2 id="social-heading">'
        f"{escape(t.text('social_or'))}</h2>{forms}</section>"
    )


def mfa_page(
    t: Catalogue, client_name: str, action: str, hidden: dict[str, str], error: str | None
) -> str:
    body = (
        f"<h1>{escape(t.text('sign_in'))}</h1>"
        f"<p>{escape(t.text('to', client=client_name))}</p>"
        f'{_error(error)}<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f'<p><label for="code">{escape(t.text("code"))}</label><br>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required '
        f'aria-describedby="code-help"></p><p id="code-help">{escape(t.text("code_help"))}</p>'
        f'<p><button type="submit">{escape(t.text("continue"))}</button></p></form>'
    )
    return _page(t, t.text("sign_in"), body)


def _decision(t: Catalogue, yes: tuple[str, str], no: tuple[str, str]) -> str:
    """The two buttons of a question: (value, catalogue key) each."""
    return "".join(
        f'<button type="submit" name="decision" value="{value}">{escape(t.text(key))}</button> '
        for value, key in (yes, no)
    ).rstrip()


def _scope_list(t: Catalogue, scopes: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(t.scope(scope))}</li>" for scope in scopes) + "</ul>"


def consent_page(
    t: Catalogue, client_name: str, scopes: list[str], action: str, hidden: dict[str, str]
) -> str:
    title = t.text("consent_title", client=client_name)
    body = (
        f"<h1>{escape(title)}</h1>"
        f"<p>{escape(t.text('consent_lead', client=client_name))}</p>{_scope_list(t, scopes)}"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f"{_decision(t, ('allow', 'allow'), ('deny', 'deny'))}</form>"
    )
    return _page(t, title, body)


def error_page(t: Catalogue, message: str) -> str:
    title = t.text("error_title")
    return _page(t, title, f"<h1>{escape(title)}</h1>{_error(message)}")


def logout_page(t: Catalogue, client_name: str | None, action: str, hidden: dict[str, str]) -> str:
    asked = f"<p>{escape(t.text('sign_out_from', client=client_name))}</p>" if client_name else ""
    body = (
        f"<h1>{escape(t.text('sign_out_title'))}</h1>{asked}"
        f"<p>{escape(t.text('sign_out_lead'))}</p>"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f"{_decision(t, ('logout', 'sign_out'), ('stay', 'stay'))}</form>"
    )
    return _page(t, t.text("sign_out_title"), body)


def notice_page(t: Catalogue, title_key: str, lead_key: str = "signed_out_lead") -> str:
    """A page that only says what happened (``signed_out_title``, ...)."""
    body = f"<h1>{escape(t.text(title_key))}</h1><p>{escape(t.text(lead_key))}</p>"
    return _page(t, t.text(title_key), body)


def device_code_page(t: Catalogue, action: str, user_code: str, error: str | None) -> str:
    body = (
        f"<h1>{escape(t.text('device_title'))}</h1><p>{escape(t.text('device_lead'))}</p>"
        f'{_error(error)}<form method="post" action="{escape(action)}">'
        f'<p><label for="user_code">{escape(t.text("device_code"))}</label><br>'
        '<input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" '
        f'spellcheck="false" required value="{escape(user_code)}"></p>'
        f'<p><button type="submit">{escape(t.text("continue"))}</button></p></form>'
    )
    return _page(t, t.text("device_title"), body)


def device_approve_page(
    t: Catalogue,
    client_name: str,
    scopes: list[str],
    user_code: str,
    email: str,
    action: str,
    hidden: dict[str, str],
) -> str:
    """RFC 8628 §5.4: the code is shown again, so a person sent someone else's code
    (remote phishing) can notice before approving."""
    title = t.text("device_approve_title", client=client_name)
    body = (
        f"<h1>{escape(title)}</h1>"
        f"<p><strong>{escape(t.text('device_check', code=user_code))}</strong></p>"
        f"<p>{escape(t.text('consent_lead', client=client_name))}</p>{_scope_list(t, scopes)}"
        f"<p>{escape(t.text('device_signed_in_as', email=email))}</p>"
        f'<form method="post" action="{escape(action)}">{_hidden(hidden)}'
        f"{_decision(t, ('allow', 'allow'), ('deny', 'deny'))}</form>"
    )
    return _page(t, title, body)
