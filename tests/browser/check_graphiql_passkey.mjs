// The GraphiQL admin console's passkey step and "Confirm it's you" in headless Chromium
// (issue 22): Chromium's virtual authenticator holds the admin's passkey (added over
// DevTools); the driver signs in with the panel (password, then "Use a passkey"), runs
// the users page, waits until the sign-in is older than the recent-sign-in limit (30 s),
// runs ChangeUserRole from the account-actions tab (refused: ReauthenticationRequired),
// confirms with the password in the panel, runs it again, confirms again with the passkey
// and signs out. Fails on any CSP violation, console error or warning, page error, failed, off-origin or >= 400 request.
// usage: node check_graphiql_passkey.mjs <graphql url> <email> <password> <credential json> <target email> <backup code>
import { chromium } from "playwright-core";

const [url, email, password, credentialJson, target, backupCode] = process.argv.slice(2);
const origin = new URL(url).origin;
const problems = [];
const report = { problems };
const exchanges = []; // every POST /graphql: {operation, token, variables, answer}
const secrets = new Set([password, backupCode]);
const RECENT_MS = 30000; // GATEHOUSE_REAUTHENTICATION_MAX_AGE_SECONDS in the test

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__csp.push(`${e.violatedDirective} blocked=${e.blockedURI}`));
  });
  page.on("console", (m) => { if (["error", "warning"].includes(m.type())) problems.push(`console.${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()}`));
  page.on("request", (r) => { if (!r.url().startsWith(origin)) problems.push(`off-origin: ${r.url()}`); });
  page.on("response", async (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
    const request = r.request();
    if (request.method() !== "POST" || !r.url().startsWith(url)) return;
    const sent = JSON.parse(request.postData() || "{}");
    const operation = sent.operationName || ((sent.query || "").match(/(?:query|mutation)\s+(\w+)/)?.[1] ?? "?");
    const authorization = (await request.allHeaders()).authorization ?? null;
    const answer = await r.json().catch(() => null);
    for (const value of Object.values(answer?.data ?? {})) {
      for (const key of ["accessToken", "refreshToken", "challengeToken"]) {
        if (value && typeof value[key] === "string") secrets.add(value[key]);
      }
    }
    const token = authorization?.replace(/^Bearer /, "") ?? null;
    exchanges.push({ operation, token, variables: sent.variables ?? null, answer, at: Date.now() });
  });
  const runs = (name) => exchanges.filter((e) => e.operation === name);
  async function waitForRun(name, count) {
    const deadline = Date.now() + 20000;
    while (runs(name).length < count && Date.now() < deadline) await page.waitForTimeout(100);
    const run = runs(name)[count - 1];
    if (!run) throw new Error(`${name} was not sent (${count})`);
    return run;
  }
  // The tab holds several operations: the run button asks which one.
  async function runOperation(name, count) {
    await page.click(".graphiql-execute-button");
    await page.click(`[role="menuitem"]:has-text("${name}")`, { timeout: 10000 });
    return waitForRun(name, count);
  }

  // The admin's passkey in Chromium's virtual authenticator (user verification on).
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  await cdp.send("WebAuthn.addCredential", { authenticatorId, credential: JSON.parse(credentialJson) });

  const response = await page.goto(url, { waitUntil: "networkidle" });
  report.csp = response.headers()["content-security-policy"] ?? null;
  await page.waitForSelector("#gatehouse-email", { timeout: 20000 });

  // Sign in: password, then the passkey instead of a code.
  await page.fill("#gatehouse-email", email);
  await page.fill("#gatehouse-password", password);
  await page.click('.gatehouse-console button[type="submit"]');
  await page.waitForSelector('.gatehouse-console button:has-text("Use a passkey")', { timeout: 15000 });
  report.methods = runs("GatehouseConsoleLogin")[0]?.answer?.data?.login?.methods ?? null;
  await page.click('.gatehouse-console button:has-text("Use a passkey")');
  await page.waitForSelector("#gatehouse-user", { timeout: 15000 });
  const signedInAt = runs("GatehouseConsolePasskey")[0]?.at ?? Date.now();
  report.signedInAs = await page.textContent("#gatehouse-user");
  report.role = await page.textContent("#gatehouse-role");
  await page.waitForFunction(() => document.querySelector("#gatehouse-schema")?.textContent.startsWith("Schema loaded"), null, { timeout: 15000 });
  report.signInOperations = exchanges.map((e) => e.operation);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  report.signCount = credentials.map((c) => c.signCount);

  // The users page from the first ready-made tab: the target's id, as an admin copies it.
  await page.click(".graphiql-execute-button");
  const users = await waitForRun("UsersPage", 1);
  const edges = users.answer?.data?.users?.edges ?? [];
  report.usersPageRows = edges.length;
  const targetId = edges.find((e) => e.node.email === target)?.node.id;
  if (!targetId) throw new Error(`${target} is not on the users page: ${JSON.stringify(users.answer)}`);
  report.targetId = targetId;

  // The account-actions tab, its variables set to the target and a role to grant.
  await page.click('.graphiql-tab:has-text("UnlockUser") .graphiql-tab-button');
  await page.waitForFunction(() => document.querySelector(".graphiql-query-editor")?.innerText.includes("ChangeUserRole"));
  await page.click('.graphiql-editor-tool .graphiql-editor .CodeMirror');
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify({ id: targetId, role: "INSTRUCTOR" }));

  // Past the recent-sign-in limit, the role change is answered ReauthenticationRequired.
  await page.waitForTimeout(Math.max(0, signedInAt + RECENT_MS + 1500 - Date.now()));
  report.sinceSignInMs = Date.now() - signedInAt;
  const refused = await runOperation("ChangeUserRole", 1);
  report.changeVariables = refused.variables;
  report.changeRefused = refused.answer?.data?.updateUser ?? refused.answer;

  // "Confirm it's you" with the password; the panel swaps in the new access token.
  await page.click('.gatehouse-again summary');
  await page.fill("#gatehouse-proof", password);
  await page.click('form[aria-label="Confirm it is you"] button[type="submit"]');
  const confirmed = await waitForRun("GatehouseConsoleReauthenticate", 1);
  report.reauthenticated = confirmed.answer?.data?.reauthenticate ?? confirmed.answer;
  await page.waitForFunction(() => document.querySelector("#gatehouse-status")?.textContent.includes("Confirmed"), null, { timeout: 10000 });
  report.confirmedNotice = await page.textContent("#gatehouse-status");
  report.proofCleared = (await page.inputValue("#gatehouse-proof")) === "";

  const changed = await runOperation("ChangeUserRole", 2);
  report.changed = changed.answer?.data?.updateUser ?? changed.answer;
  report.reauthTokenSent = Boolean(changed.token) && changed.token === report.reauthenticated?.accessToken;

  // "Confirm with a passkey": the server's options, the virtual authenticator's answer.
  await page.click('.gatehouse-console button:has-text("Confirm with a passkey")');
  const byPasskey = await waitForRun("GatehouseConsoleReauthenticate", 2);
  report.passkeyReauthenticated = byPasskey.answer?.data?.reauthenticate ?? byPasskey.answer;
  report.passkeyProofOnly = byPasskey.variables?.passkey != null && byPasskey.variables?.password == null;
  const confirmedBy = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  report.signCountAfterConfirm = confirmedBy.credentials.map((c) => c.signCount);

  // "Use a backup code": its own field, sent as backupCode.
  await page.click('.gatehouse-console button:has-text("Use a backup code")');
  await page.fill("#gatehouse-proof-backup", backupCode);
  await page.click('form[aria-label="Confirm it is you"] button[type="submit"]');
  const byBackup = await waitForRun("GatehouseConsoleReauthenticate", 3);
  report.backupReauthenticated = byBackup.answer?.data?.reauthenticate ?? byBackup.answer;
  report.backupProof = {
    backupCode: byBackup.variables?.backupCode === backupCode,
    password: byBackup.variables?.password != null,
    code: byBackup.variables?.code != null,
  };

  // Sign out: the session ends on the server.
  await page.click('.gatehouse-console button:has-text("Sign out")');
  await page.waitForSelector("#gatehouse-email", { timeout: 15000 });
  report.logout = runs("GatehouseConsoleLogout").map((e) => e.answer?.data?.logout ?? e.answer);
  report.lastToken = changed.token; // the Python side checks the server refuses it now

  // Nothing secret in any browser storage.
  const stored = await page.evaluate(async () => {
    const dump = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i))]));
    const databases = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
    return { local: dump(localStorage), session: dump(sessionStorage), indexedDB: databases, cookie: document.cookie };
  });
  const cookies = await context.cookies();
  const everything = JSON.stringify(stored) + JSON.stringify(cookies);
  report.storage = {
    localKeys: Object.keys(stored.local), sessionKeys: Object.keys(stored.session),
    indexedDB: stored.indexedDB, cookies: cookies.length + (stored.cookie ? 1 : 0),
    secretsChecked: secrets.size,
    leaks: [...secrets].filter((s) => s && everything.includes(s)).map((s) => s.slice(0, 12) + "…"),
    jwtLike: /eyJ[\w-]{10,}\.[\w-]{10,}/.test(everything),
  };
  problems.push(...(await page.evaluate(() => window.__csp)).map((v) => `csp: ${v}`));
} catch (error) {
  problems.push(`error: ${error.message}`);
} finally {
  await browser.close();
}
report.operations = exchanges.map((e) => e.operation);
console.log(JSON.stringify(report));
process.exit(problems.length ? 1 : 0);
