// The callback page: the provider sent the browser back with ?code=&state= (or ?error=);
// hand them to completeSocialSignIn, then use the session it opened. The answer is
// AuthPayload (signed in), MfaRequired (answer the second factor), AccountLinkRequired
// (prove the existing account first) or SocialSignInFailed { reason }.
const { api, provider } = JSON.parse(sessionStorage.getItem("gatehouse") || "{}");
const callback = new URLSearchParams(location.search);
// The code is single use: take it out of the address bar and the history.
history.replaceState(null, "", location.pathname);

async function graphql(query, variables = {}, token = null) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(api, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return Object.values(body.data)[0];
}

async function finish() {
  const completed = await graphql(`mutation($p: String!, $c: String, $s: String!, $e: String) {
    completeSocialSignIn(provider: $p, code: $c, state: $s, error: $e) { __typename
      ... on AuthPayload { accessToken user { email } }
      ... on MfaRequired { challengeToken }
      ... on AccountLinkRequired { linkToken }
      ... on SocialSignInFailed { reason } } }`,
  { p: provider, c: callback.get("code"), s: callback.get("state") ?? "", e: callback.get("error") });
  if (completed.__typename !== "AuthPayload") return { completed };
  const me = await graphql("query { me { email identities { provider } } }", {}, completed.accessToken);
  return { completed: { __typename: completed.__typename, email: completed.user.email }, me };
}

finish().then(
  (outcome) => { window.socialOutcome = outcome; },
  (error) => { window.socialOutcome = { error: String(error) }; },
).finally(() => { document.getElementById("status").textContent = "done"; });
