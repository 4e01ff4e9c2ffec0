// The redirect URI: check state, exchange the code with the PKCE verifier at the token
// endpoint (a cross-origin POST: Gatehouse allows this client's origin), verify the ID
// token with WebCrypto against the key set from jwks_uri (RS256, iss, aud, nonce, exp),
// then call userinfo with the access token.
const pending = JSON.parse(sessionStorage.getItem("oidc") || "{}");
sessionStorage.removeItem("oidc");
const answer = new URLSearchParams(location.search);
// The code is single use: out of the address bar and the history.
history.replaceState(null, "", location.pathname);

function bytes(base64url) {
  const text = atob(base64url.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function verifiedClaims(idToken) {
  const [header64, payload64, signature64] = idToken.split(".");
  const header = JSON.parse(new TextDecoder().decode(bytes(header64)));
  if (header.alg !== "RS256") throw new Error(`unexpected alg ${header.alg}`);
  const keys = await (await fetch(pending.config.jwks_uri)).json();
  const jwk = keys.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error("no key for the ID token's kid");
  const key = await crypto.subtle.importKey(
    "jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
  const signed = new TextEncoder().encode(`${header64}.${payload64}`);
  if (!await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, bytes(signature64), signed)) {
    throw new Error("bad ID token signature");
  }
  const claims = JSON.parse(new TextDecoder().decode(bytes(payload64)));
  if (claims.iss !== pending.config.issuer) throw new Error("wrong iss");
  if (claims.aud !== pending.clientId) throw new Error("wrong aud");
  if (claims.nonce !== pending.nonce) throw new Error("wrong nonce");
  if (claims.exp * 1000 < Date.now()) throw new Error("expired ID token");
  return claims;
}

async function finish() {
  if (answer.get("error")) return { error: answer.get("error") };
  if (answer.get("state") !== pending.state) return { error: "state mismatch" };
  const response = await fetch(pending.config.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.get("code"),
      redirect_uri: `${location.origin}/callback.html`,
      client_id: pending.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const token = await response.json();
  if (!response.ok) return { error: token.error };
  const claims = await verifiedClaims(token.id_token);
  const userinfo = await (await fetch(pending.config.userinfo_endpoint, {
    headers: { authorization: `Bearer ${token.access_token}` },
  })).json();
  return {
    tokenType: token.token_type,
    idToken: { sub: claims.sub, email: claims.email, amr: claims.amr, name: claims.name },
    userinfo,
  };
}

finish().then(
  (outcome) => { window.oidcOutcome = outcome; },
  (error) => { window.oidcOutcome = { error: String(error) }; },
).finally(() => { document.getElementById("status").textContent = "done"; });
