"""Every built-in page under /oauth2, visited in-process the way a person meets them
(sign-in with its errors and the code step, consent, the device pages, sign-out, the
error pages), for the tests that check what every page must have: the referrer and
framing headers (RFC 9700), labels and announced errors (accessibility)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pyotp

from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, LocalProvider

# Register these on the tour's provider first (tour_clients).
TOUR_EMAIL = "tour.ada@example.com"


@dataclass(frozen=True)
class Visit:
    what: str
    response: httpx.Response
    error: bool = False  # the page must announce an error


async def tour_clients(op: LocalProvider) -> str:
    """The clients and the person (with TOTP) the tour uses; the person's TOTP secret."""
    await op.add_client(
        "Tour wiki", "CONFIDENTIAL", redirectUris=["https://rp.example.com/callback"],
        scopes=["openid", "email"],
    )  # fmt: skip
    await op.add_client("Tour TV", "PUBLIC", grantTypes=["DEVICE_CODE"], scopes=["openid"])
    secret = await op.person(TOUR_EMAIL, totp=True)
    assert secret is not None
    return secret


async def tour(op: LocalProvider, totp: str, headers: dict[str, str] | None = None) -> list[Visit]:
    """Every page once (``headers``: what the browser sends, Accept-Language, say)."""
    visits: list[Visit] = []
    async with op.http() as browser:
        browser.headers.update(headers or {})

        async def seen(what: str, response: httpx.Response, error: bool = False) -> str:
            visits.append(Visit(what, response, error))
            return response.text

        wiki = op.clients["Tour wiki"]["client"]["id"]
        await seen(
            "authorize error page",
            await browser.get("/oauth2/authorize", params={"client_id": "nope"}),
            error=True,
        )
        query = urlencode({
            "client_id": wiki, "response_type": "code", "scope": "openid email",
            "redirect_uri": "https://rp.example.com/callback", "state": "s",
            "prompt": "consent",  # the consent page on every tour, given before or not
        })  # fmt: skip
        first = await browser.get(f"/oauth2/authorize?{query}")
        await seen("authorize → sign-in", first)
        page = await seen("sign-in page", await browser.get(first.headers["location"]))
        form = {"challenge": hidden(page, "challenge"), "csrf": hidden(page, "csrf")}
        wrong = {**form, "email": TOUR_EMAIL, "password": "not it at all 1"}
        await seen("wrong password", await browser.post("/oauth2/login", data=wrong), error=True)
        right = {**form, "email": TOUR_EMAIL, "password": PASSWORD}
        step = await seen("code step", await browser.post("/oauth2/login", data=right))
        code_form = {**form, "mfa": hidden(step, "mfa")}
        bad = {**code_form, "code": "000000"}
        await seen("wrong code", await browser.post("/oauth2/login/mfa", data=bad), error=True)
        good = {**code_form, "code": pyotp.TOTP(totp).at(op.clock.now())}
        signed_in = await browser.post("/oauth2/login/mfa", data=good)
        await seen("signed in", signed_in)
        resumed = await browser.get(signed_in.headers["location"])
        await seen("authorize → consent", resumed)
        consent = await seen("consent page", await browser.get(resumed.headers["location"]))
        allowed = await browser.post("/oauth2/consent", data={
            "challenge": hidden(consent, "challenge"), "csrf": hidden(consent, "csrf"),
            "decision": "allow"})  # fmt: skip
        await seen("consent given", allowed)
        await seen("authorize → the code", await browser.get(allowed.headers["location"]))
        forged = {"challenge": "gone", "csrf": "x", "decision": "allow"}
        expired = await browser.post("/oauth2/consent", data=forged)
        await seen("expired request", expired, error=True)

        await seen("device code page", await browser.get("/oauth2/device"))
        unknown = await browser.post("/oauth2/device", data={"user_code": "BBBB-BBBB"})
        await seen("unknown device code", unknown, error=True)
        tv = op.clients["Tour TV"]["client"]["id"]
        started = (
            await browser.post("/oauth2/device_authorization", data={"client_id": tv})
        ).json()
        entered = await browser.post("/oauth2/device", data={"user_code": started["user_code"]})
        await seen("device code → approval", entered)
        approve = await seen("device approval", await browser.get(entered.headers["location"]))
        answered = await browser.post("/oauth2/device/approve", data={
            "challenge": hidden(approve, "challenge"), "csrf": hidden(approve, "csrf"),
            "decision": "allow"})  # fmt: skip
        await seen("device connected", answered)

        asked = await seen("sign-out page", await browser.get("/oauth2/logout"))
        stay = {"request": hidden(asked, "request"), "csrf": hidden(asked, "csrf")}
        stayed = await browser.post("/oauth2/logout/confirm", data={**stay, "decision": "stay"})
        await seen("still signed in", stayed)
    assert BASE  # the tour runs on the in-process provider's origin
    return visits


class PageAudit(HTMLParser):
    """What the accessibility checks read from a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.h1 = 0
        self.fields: list[dict[str, str | None]] = []  # inputs a person fills in
        self.labels: dict[str, str] = {}  # for → its text
        self.ids: set[str] = set()
        self.described_by: list[str] = []
        self.alerts: list[str] = []  # the text of each role=alert element
        self.buttons: list[str] = []
        # (tag, what, key) of the elements whose text is being read, innermost last.
        self._open: list[tuple[str, str, str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if a.get("aria-describedby"):
            self.described_by.append(str(a["aria-describedby"]))
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.fields.append(a)
        if tag == "label":
            self._open.append((tag, "label", str(a.get("for"))))
            self.labels[str(a.get("for"))] = ""
        elif tag == "title":
            self._open.append((tag, "title", ""))
        elif tag == "button":
            self._open.append((tag, "button", str(len(self.buttons))))
            self.buttons.append("")
        elif a.get("role") == "alert":
            self._open.append((tag, "alert", str(len(self.alerts))))
            self.alerts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._open:
            return
        _, what, key = self._open[-1]
        if what == "label":
            self.labels[key] += data
        elif what == "title":
            self.title += data
        elif what == "button":
            self.buttons[int(key)] += data
        elif what == "alert":
            self.alerts[int(key)] += data


def accessibility_problems(visit: Visit) -> list[str]:
    """What a screen-reader user would miss on the page: no language, title or heading,
    a field without a label, an error not announced, a button without words."""
    audit = PageAudit(visit.response.text)
    problems = []
    if not audit.lang:
        problems.append("no lang")
    if not audit.title.strip() or audit.h1 != 1:
        problems.append("a title and one h1")
    for field in audit.fields:
        field_id = field.get("id")
        if not field_id or not audit.labels.get(str(field_id), "").strip():
            problems.append(f"field {field.get('name')} has no label")
    problems += [f"aria-describedby {d} names nothing" for d in audit.described_by
                 if d not in audit.ids]  # fmt: skip
    problems += ["a button without words" for b in audit.buttons if not b.strip()]
    if visit.error and not any(alert.strip() for alert in audit.alerts):
        problems.append("the error is not announced (role=alert)")
    return problems
