// A single-page app as a public OpenID Connect client of Gatehouse, written against the
// specifications only: discovery, then the authorization code flow with PKCE (S256),
// state and nonce kept in sessionStorage. ?issuer= and ?client_id= come from the test.
const params = new URLSearchParams(location.search);
const issuer = params.get("issuer");
const clientId = params.get("client_id");
const button = document.getElementById("sign-in");

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function random() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

button.addEventListener("click", async () => {
  const config = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const verifier = random();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const pending = { issuer, clientId, verifier, state: random(), nonce: random(), config };
  sessionStorage.setItem("oidc", JSON.stringify(pending));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: `${location.origin}/callback.html`,
    scope: "openid email profile",
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
});
button.disabled = false;
document.getElementById("status").textContent = "ready";
