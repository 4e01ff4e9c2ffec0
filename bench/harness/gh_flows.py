"""Gatehouse's sign-in methods and its OpenID provider under load (issues 18 and 20), on
the server of the first scale level, after its standard scenarios.

- ``password login (loadgen)`` and ``passkey login``: harness/loadgen.py, one process
  pinned to wrk's CPU; rates count completed sign-ins (a passkey's is its begin and
  finish pair).
- ``token: client_credentials``, ``introspection`` and ``token: authorization_code``:
  wrk with form bodies, as Keycloak's. The codes are minted through the provider's
  pages just before their load, sized from the client_credentials rate (the cheaper
  grant of the same endpoint), and each is sent once.

A failing part is reported in its cells (and the targets say "not measured"); the run
goes on to the peers and the scale levels.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from harness import gatehouse, oidc, scenarios, sign_in, wrk
from harness.bench import Bench, Pids
from harness.peer_runs import wait_idle

GH = "Gatehouse"
PASSWORD_LOADGEN, PASSKEY = scenarios.PASSWORD_LOADGEN, scenarios.PASSKEY_LOGIN
CODE, CLIENT_CREDENTIALS = scenarios.CODE_EXCHANGE, scenarios.CLIENT_CREDENTIALS
INTROSPECTION = scenarios.INTROSPECTION
SIGN_IN_SCENARIOS = (PASSWORD_LOADGEN, PASSKEY)
PROVIDER_SCENARIOS = (CLIENT_CREDENTIALS, INTROSPECTION, CODE)
SCENARIOS = SIGN_IN_SCENARIOS + PROVIDER_SCENARIOS
BROWSERS = 8  # bench users signed in to the provider's pages, codes minted in turn
# Codes beyond the client_credentials rate x duration: the exchange is the dearer grant
# (a code to take, a session to check, two RS256 signatures instead of one).
CODE_HEADROOM = 1.25


def run(bench: Bench, url: str, emails: list[str], pids: Pids) -> dict[str, wrk.Result]:
    """Every scenario of this module that ran; the others' cells hold why not."""
    results: dict[str, wrk.Result] = {}
    for part, names in ((_sign_ins, SIGN_IN_SCENARIOS), (_provider, PROVIDER_SCENARIOS)):
        try:
            part(bench, url, emails, pids, results)
        except Exception as exc:  # keep the run: the scale levels and peers still matter
            print(f"  failed in `{bench.current}`: {exc!r}", flush=True)
            for name in names:
                if name not in results:
                    bench.report.peers[(GH, name)] = f"failed in `{bench.current}`: {exc!r}"
    return results


def _sign_ins(
    bench: Bench, url: str, emails: list[str], pids: Pids, results: dict[str, wrk.Result]
) -> None:
    with bench.phase(f"register {len(emails)} passkeys through the API"):
        credentials = sign_in.register_passkeys(url, emails)
    wait_idle(pids)
    cpu: dict[str, float] = {}

    def generate(
        scenario: str,
        name: str,
        emails: list[str] | None = None,
        credentials: list[dict[str, Any]] | None = None,
    ) -> None:
        def once() -> wrk.Result:
            generated = sign_in.run(
                url,
                scenario,
                duration=bench.opts.duration,
                connections=bench.opts.connections,
                workdir=bench.tmp,
                log=bench.logs / "loadgen.log",
                emails=emails,
                credentials=credentials,
            )
            cpu[name] = generated.cpu_share
            return generated.result

        results[name] = bench.measure(f"loadgen gatehouse {name}", once, pids=pids, peer=GH)

    generate("password", PASSWORD_LOADGEN, emails=random.sample(emails, len(emails)))
    generate("passkey", PASSKEY, credentials=credentials)
    bench.report.notes.append(
        f"`{PASSKEY}` and `{PASSWORD_LOADGEN}`: harness/loadgen.py (asyncio, uvloop, raw HTTP/1.1),"
        f" {min(bench.opts.connections, len(emails))} keep-alive connections, pinned to CPU"
        f" {wrk.WRK_CPU} as wrk is; req/s counts completed sign-ins, a passkey's being the"
        " beginPasskeyLogin + finishPasskeyLogin pair (usernameless, ES256, user verification,"
        " a counter that steps; each connection owns its accounts), latency from the begin's"
        " send to the finish's answer. The generator's own CPU over the run: "
        + ", ".join(f"{name} {share:.0%} of a core" for name, share in cpu.items())
        + " (near 100%, the generator sets the pace)."
    )


def _provider(
    bench: Bench, url: str, emails: list[str], pids: Pids, results: dict[str, wrk.Result]
) -> None:
    duration, conns = bench.opts.duration, bench.opts.connections
    browsers = emails[:BROWSERS]
    with bench.phase("OAuth clients through the admin API, tokens through the provider's pages"):
        # createOAuthClient needs a recent sign-in: a fresh one.
        admin = gatehouse.login(url, gatehouse.ADMIN_EMAIL)["accessToken"]
        web, service = oidc.register_clients(url, admin)
        forms = oidc.mint_codes(url, web, browsers, conns, budget=120)
        tokens = oidc.access_tokens(url, forms[:conns])
    wait_idle(pids)

    def load(name: str, spec: wrk.Spec) -> wrk.Result:
        results[name] = bench.load("gatehouse", name, url, spec, pids=pids, peer=GH)
        return results[name]

    rate = load(CLIENT_CREDENTIALS, scenarios.gh_client_credentials(service)).rps
    load(INTROSPECTION, scenarios.gh_introspect(service, tokens))
    wanted = math.ceil(rate * duration * CODE_HEADROOM) + 2 * conns
    budget = oidc.mint_budget(duration)
    wait_idle(pids)
    with bench.phase(f"mint {wanted:,} authorization codes (at most {budget:.0f} s)"):
        started = time.monotonic()
        forms = oidc.mint_codes(url, web, browsers, wanted, budget)
        took = time.monotonic() - started
    # Not the usual 30 s: the codes are ageing.
    wait_idle(pids, timeout=3.0)
    code = load(CODE, scenarios.gh_code_exchange(forms))
    bench.report.notes.append(
        f"`{CODE}`: {len(forms):,} codes minted in {took:.1f} s (the authorization endpoint"
        f" with the provider's session cookie of {len(browsers)} bench users, after one"
        " sign-in and consent each through its pages; PKCE S256, scope"
        f" `{oidc.CODE_SCOPE}`), each sent once (wrk pool, single use): access and ID token"
        f" per exchange; {code.exhausted:,} requests found the pool empty."
        f" `{CLIENT_CREDENTIALS}`: a confidential service client, scope `{oidc.SERVICE_SCOPE}`."
        f" `{INTROSPECTION}`: that client (a resource server) asks about {len(tokens)} of the"
        " web app's access tokens. Every body form-encoded, client_secret_post."
    )
