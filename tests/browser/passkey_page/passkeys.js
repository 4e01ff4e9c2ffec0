// A frontend's passkey calls, as README.md "Passkeys" shows them: the options from
// Gatehouse go to navigator.credentials through parse*OptionsFromJSON, and the browser's
// answer goes back as its toJSON(). The GraphQL endpoint comes from ?api=.
const api = new URLSearchParams(location.search).get("api");
const ERRORS = "... on UserError { code message }";

async function graphql(query, variables = {}, token = null) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(api, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return Object.values(body.data)[0];
}

async function passwordLogin(email, password) {
  return graphql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
    __typename ... on AuthPayload { accessToken user { email } }
    ... on MfaRequired { challengeToken methods } ${ERRORS} } }`, { e: email, p: password });
}

async function addPasskey(token, name) {
  const begun = await graphql(`mutation { beginPasskeyRegistration { __typename
    ... on PasskeyRegistrationOptions { options } ${ERRORS} } }`, {}, token);
  if (begun.__typename !== "PasskeyRegistrationOptions") return begun;
  const created = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(begun.options),
  });
  return graphql(`mutation($c: JSON!, $n: String) { finishPasskeyRegistration(credential: $c, name: $n) {
    __typename ... on PasskeyAdded { passkey { id name deviceType } } ${ERRORS} } }`,
  { c: created.toJSON(), n: name }, token);
}

// No email and no challenge: any passkey of this site (usernameless); a challengeToken
// from MfaRequired: the passkey answers the password's second factor.
async function passkeyLogin(challengeToken = null) {
  const begun = await graphql(`mutation($t: String) { beginPasskeyLogin(challengeToken: $t) {
    __typename ... on PasskeyLoginOptions { attemptId options } ${ERRORS} } }`, { t: challengeToken });
  if (begun.__typename !== "PasskeyLoginOptions") return begun;
  const assertion = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(begun.options),
  });
  return graphql(`mutation($a: String!, $c: JSON!) { finishPasskeyLogin(attemptId: $a, credential: $c) {
    __typename ... on AuthPayload { accessToken user { email } }
    ... on MfaRequired { challengeToken } ${ERRORS} } }`, { a: begun.attemptId, c: assertion.toJSON() });
}

async function logout(token) {
  return graphql("mutation { logout { sessionsEnded } }", {}, token);
}

async function call(query, variables, token) {
  return graphql(query, variables, token);
}

window.passkeys = { passwordLogin, addPasskey, passkeyLogin, logout, call };
document.getElementById("status").textContent = "ready";
