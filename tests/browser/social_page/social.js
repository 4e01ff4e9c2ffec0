// The sign-in page of a single-page app, as README.md "Social sign-in" shows it: ask
// Gatehouse for the provider's authorization URL (beginSocialSignIn, with this app's
// callback page as the redirect URI, on GATEHOUSE_SOCIAL_REDIRECT_URIS) and send the
// browser there. The GraphQL endpoint and the provider come from ?api= and ?provider=.
const params = new URLSearchParams(location.search);
const api = params.get("api");
const provider = params.get("provider");
const button = document.getElementById("sign-in");

async function graphql(query, variables = {}) {
  const response = await fetch(api, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return Object.values(body.data)[0];
}

button.addEventListener("click", async () => {
  const begun = await graphql(`mutation($p: String!, $r: String!) {
    beginSocialSignIn(provider: $p, redirectUri: $r) { __typename
      ... on SocialAuthorization { authorizationUrl }
      ... on SocialSignInFailed { reason } } }`,
  { p: provider, r: `${location.origin}/callback.html` });
  if (begun.__typename !== "SocialAuthorization") {
    document.getElementById("status").textContent = JSON.stringify(begun);
    return;
  }
  // The callback page needs to know where the API is and which provider answered.
  sessionStorage.setItem("gatehouse", JSON.stringify({ api, provider }));
  location.assign(begun.authorizationUrl);
});
button.disabled = false;
document.getElementById("status").textContent = "ready";
