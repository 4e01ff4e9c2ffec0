// The GraphQL clients frontends use, with their default settings plus what the README's
// "Using Gatehouse from a frontend" tells them to configure, against a running Gatehouse.
//
//   node conformance.mjs <scenario> <http://host:port/graphql>
//
// Scenarios: apollo, persisted, urql, graphql-ws, audits. The last stdout line is a JSON
// report {scenario, facts, problems}; the exit code is 1 when there are problems.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  gql,
} from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { Client as UrqlClient, fetchExchange } from "@urql/core";
import { serverAudits } from "graphql-http";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";

const [scenario, url] = process.argv.slice(2);
const problems = [];
const facts = {};
const PASSWORD = "correct horse battery staple 42";
const { possibleTypes } = JSON.parse(
  readFileSync(new URL("../../clients/possible-types.json", import.meta.url), "utf8"),
);

function check(condition, message, detail) {
  if (!condition) problems.push(detail === undefined ? message : `${message}: ${JSON.stringify(detail)}`);
}

// Every request the clients send, as the server saw it (method, status, body).
const seen = [];
async function recordingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const target = typeof input === "string" ? input : input.url;
  seen.push({
    method: (init.method || "GET").toUpperCase(),
    url: target,
    body: typeof init.body === "string" ? JSON.parse(init.body) : null,
    status: response.status,
    contentType: response.headers.get("content-type"),
  });
  return response;
}

async function http(query, variables, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function signedInUser() {
  const email = `client-${randomUUID()}@example.com`;
  const registered = await http(
    `mutation R($e: String!, $p: String!) {
       register(email: $e, password: $p, firstName: "Client", lastName: "Test") { __typename }
     }`,
    { e: email, p: PASSWORD },
  );
  check(registered.data?.register?.__typename === "RegistrationAccepted", "register", registered);
  return email;
}

async function login(email) {
  const body = await http(
    `mutation L($e: String!, $p: String!) {
       login(email: $e, password: $p) { __typename ... on AuthPayload { accessToken } }
     }`,
    { e: email, p: PASSWORD },
  );
  const token = body.data?.login?.accessToken;
  check(typeof token === "string", "login", body);
  return token;
}

function apollo(links, withPossibleTypes = true) {
  return new ApolloClient({
    link: ApolloLink.from([...links, new HttpLink({ uri: url, fetch: recordingFetch })]),
    cache: new InMemoryCache(withPossibleTypes ? { possibleTypes } : {}),
  });
}

const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      __typename
      ... on UserError {
        message
        code
      }
    }
  }
`;

async function errorOf(promise) {
  try {
    const result = await promise;
    return result.error;
  } catch (error) {
    return error;
  }
}

const scenarios = {
  async apollo() {
    const client = apollo([]);
    const info = await client.query({ query: gql`query Info { serverInfo { name apiVersion } }` });
    check(info.data?.serverInfo?.name === "gatehouse", "query", info);

    // A union result read through the UserError interface: needs possibleTypes.
    const wrong = await client.mutate({
      mutation: LOGIN,
      variables: { email: `nobody-${randomUUID()}@example.com`, password: "wrong password 123" },
    });
    facts.login = wrong.data?.login;
    check(wrong.data?.login?.__typename === "InvalidCredentials", "union member", wrong.data);
    check(wrong.data?.login?.code === "INVALID_CREDENTIALS", "UserError fields", wrong.data);
    const blind = await apollo([], false).mutate({
      mutation: LOGIN,
      variables: { email: `nobody-${randomUUID()}@example.com`, password: "wrong password 123" },
    });
    facts.withoutPossibleTypes = blind.data?.login;
    // Why the README insists: without possibleTypes the fragment's fields are dropped.
    check(blind.data?.login?.code === undefined, "fields without possibleTypes", blind.data);

    // An error in errors[] of a 200 (execution started).
    const unauthenticated = await errorOf(client.query({ query: gql`query Me { me { id } }` }));
    check(CombinedGraphQLErrors.is(unauthenticated), "field error type", String(unauthenticated));
    facts.fieldErrorCode = unauthenticated?.errors?.[0]?.extensions?.code;
    check(facts.fieldErrorCode === "UNAUTHENTICATED", "field error code", facts.fieldErrorCode);

    // Request errors are 4xx: readable because they come as application/graphql-response+json.
    const deep = await errorOf(
      client.query({ query: gql`query Deep { users { edges { node { id } } } }` }),
    );
    const last = seen.at(-1);
    facts.deep = { status: last.status, contentType: last.contentType };
    check(last.status === 400, "4xx status", last);
    check(CombinedGraphQLErrors.is(deep), "4xx error type", String(deep));
    facts.requestErrorCode = deep?.errors?.[0]?.extensions?.code;
    check(facts.requestErrorCode === "QUERY_TOO_DEEP", "4xx error code", facts.requestErrorCode);
    const invalid = await errorOf(client.query({ query: gql`query Bad { serverInfo { secret } }` }));
    facts.validationCode = invalid?.errors?.[0]?.extensions?.code;
    check(facts.validationCode === "GRAPHQL_VALIDATION_FAILED", "validation code", facts.validationCode);
  },

  async persisted() {
    const sha256 = (text) => createHash("sha256").update(text).digest("hex");
    const link = () => new PersistedQueryLink({ sha256 });
    const query = gql`query PersistedInfo { serverInfo { name version } }`;
    const first = await apollo([link()]).query({ query });
    check(first.data?.serverInfo?.name === "gatehouse", "first answer", first);
    const round1 = seen.map(({ body, status }) => ({ hasQuery: "query" in body, status }));
    facts.firstRound = round1;
    check(round1.length === 2, "hash only, then hash and query", round1);
    check(round1[0]?.hasQuery === false && round1[1]?.hasQuery === true, "order", round1);
    seen.length = 0;
    // A new client (an app reloaded): the hash alone is enough now.
    const second = await apollo([link()]).query({ query });
    check(second.data?.serverInfo?.name === "gatehouse", "second answer", second);
    facts.secondRound = seen.map(({ body, status }) => ({ hasQuery: "query" in body, status }));
    check(seen.length === 1 && !("query" in seen[0].body), "hash only", facts.secondRound);
    seen.length = 0;
    // GET for hashed queries (Apollo's CDN-friendly option): the same, as a GET.
    const third = await apollo([new PersistedQueryLink({ sha256, useGETForHashedQueries: true })])
      .query({ query });
    check(third.data?.serverInfo?.name === "gatehouse", "GET answer", third);
    check(seen.length === 1 && seen[0].method === "GET", "hashed GET", seen);
    seen.length = 0;
    // Mutations go through it too (always POST).
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const variables = { email: `nobody-${randomUUID()}@example.com`, password: "wrong password 123" };
      const result = await apollo([link()]).mutate({ mutation: LOGIN, variables });
      check(result.data?.login?.code === "INVALID_CREDENTIALS", "persisted mutation", result.data);
    }
    facts.mutationRequests = seen.map(({ method, body }) => `${method} ${"query" in body ? "query+hash" : "hash"}`);
    check(
      JSON.stringify(facts.mutationRequests) === JSON.stringify(["POST hash", "POST query+hash", "POST hash"]),
      "persisted mutation requests",
      facts.mutationRequests,
    );
  },

  async urql() {
    // @urql/core's defaults: preferGetMethod "within-url-limit", so queries are GETs.
    const client = new UrqlClient({ url, exchanges: [fetchExchange], fetch: recordingFetch });
    const info = await client.query(`query Info { serverInfo { name } }`, {}).toPromise();
    check(!info.error, "query error", info.error?.message);
    check(info.data?.serverInfo?.name === "gatehouse", "query", info.data);
    facts.queryMethod = seen.at(-1)?.method;
    check(facts.queryMethod === "GET", "urql sends queries with GET", facts.queryMethod);
    const wrong = await client
      .mutation(
        `mutation Login($email: String!, $password: String!) {
           login(email: $email, password: $password) { __typename ... on UserError { code } }
         }`,
        { email: `nobody-${randomUUID()}@example.com`, password: "wrong password 123" },
      )
      .toPromise();
    facts.mutationMethod = seen.at(-1)?.method;
    check(facts.mutationMethod === "POST", "mutations are POSTs", facts.mutationMethod);
    check(wrong.data?.login?.code === "INVALID_CREDENTIALS", "mutation", wrong.data);
    const deep = await client.query(`query Deep { users { edges { node { id } } } }`, {}).toPromise();
    facts.requestErrorCode = deep.error?.graphQLErrors?.[0]?.extensions?.code;
    check(facts.requestErrorCode === "QUERY_TOO_DEEP", "request error code", facts.requestErrorCode);
  },

  async "graphql-ws"() {
    const email = await signedInUser();
    const socketToken = await login(email);
    const otherToken = await login(email);
    const sessions = await http("{ mySessions { id current } }", {}, otherToken);
    const other = sessions.data.mySessions.find((s) => s.current).id;

    let token = socketToken;
    let connections = 0;
    const closed = new Promise((resolve) => {
      const client = createWsClient({
        url: url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        // A function: a reconnect sends the token current at that moment.
        connectionParams: async () => {
          connections += 1;
          return { authorization: `Bearer ${token}` };
        },
        // 4401 = signed out, 4403 = refused: retrying with the same token cannot help.
        shouldRetry: (event) => !(event?.code === 4401 || event?.code === 4403),
        retryAttempts: 3,
        on: { closed: (event) => resolve({ code: event.code, reason: event.reason }) },
      });
      scenarios.wsClient = client;
    });
    const events = [];
    const subscribed = new Promise((resolve, reject) => {
      scenarios.wsClient.subscribe(
        { query: "subscription { sessionRevoked { sessionId reason current } }" },
        { next: (value) => events.push(value), error: reject, complete: resolve },
      );
    });
    subscribed.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 1000));

    // A live event triggered over HTTP: end the other session.
    const revoked = await http(
      "mutation R($id: String!) { revokeSession(id: $id) { __typename } }",
      { id: other },
      socketToken,
    );
    check(revoked.data?.revokeSession?.__typename === "SessionRevoked", "revoke", revoked);
    for (let i = 0; i < 50 && events.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    facts.event = events[0]?.data?.sessionRevoked;
    check(facts.event?.sessionId === other && facts.event?.current === false, "live event", events);

    // Logging out over HTTP closes the socket with 4401, and the client does not retry.
    const out = await http("mutation { logout { sessionsEnded } }", {}, socketToken);
    check(out.data?.logout?.sessionsEnded === 1, "logout", out);
    const close = await Promise.race([
      closed,
      new Promise((resolve) => setTimeout(() => resolve({ code: "timeout" }), 10000)),
    ]);
    facts.close = close;
    check(close.code === 4401, "close code after logout", close);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    facts.connections = connections;
    check(connections === 1, "no retry after 4401", connections);
    await scenarios.wsClient.dispose();

    // A token that is not accepted: 4403, not retried either.
    token = "not-a-token";
    connections = 0;
    const refused = await new Promise((resolve) => {
      const client = createWsClient({
        url: url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        connectionParams: async () => {
          connections += 1;
          return { authorization: `Bearer ${token}` };
        },
        shouldRetry: (event) => !(event?.code === 4401 || event?.code === 4403),
        retryAttempts: 3,
        lazy: false,
        on: { closed: (event) => resolve({ code: event.code }) },
      });
      scenarios.refusedClient = client;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    facts.refused = { code: refused.code, connections };
    check(refused.code === 4403 && connections === 1, "refused without retry", facts.refused);
    await scenarios.refusedClient.dispose();
  },

  async audits() {
    const results = [];
    for (const audit of serverAudits({ url, fetchFn: fetch })) {
      results.push(await audit.fn());
    }
    const byStatus = {};
    for (const result of results) byStatus[result.status] = (byStatus[result.status] || 0) + 1;
    facts.audits = byStatus;
    for (const result of results.filter((r) => r.status !== "ok")) {
      problems.push(`${result.status} ${result.id} ${result.name}: ${result.reason}`);
    }
  },
};

try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await scenarios[scenario]();
} catch (error) {
  problems.push(`${scenario} threw: ${error?.stack || error}`);
}
console.log(JSON.stringify({ scenario, facts, problems }));
process.exit(problems.length ? 1 : 0);
