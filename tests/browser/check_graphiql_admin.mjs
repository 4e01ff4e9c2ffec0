// The GraphiQL admin console in headless Chromium (issue 22): sign in with the panel
// (password, then the TOTP code), run the users page from the first ready-made tab, wait
// until the first access token has expired and run it again (the panel refreshed on its
// own), sign out, run it once more and see it refused. Fails on any CSP violation, console
// error or warning, page error, failed, off-origin or >= 400 request.
// usage: node check_graphiql_admin.mjs <graphql url> <email> <password> <totp code> <shot.png>
import { chromium } from "playwright-core";

const [url, email, password, code, shot] = process.argv.slice(2);
const origin = new URL(url).origin;
const problems = [];
const report = { problems };
const exchanges = []; // every POST /graphql: {operation, token, answer}
const secrets = new Set([password]);

function jwtExp(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(Buffer.from(payload, "base64").toString()).exp;
}

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
    const operation = (sent.query || "").match(/(?:query|mutation)\s+(\w+)/)?.[1] ?? "?";
    const authorization = (await request.allHeaders()).authorization ?? null;
    const answer = await r.json().catch(() => null);
    for (const value of Object.values(answer?.data ?? {})) {
      for (const key of ["accessToken", "refreshToken", "challengeToken"]) {
        if (value && typeof value[key] === "string") secrets.add(value[key]);
      }
    }
    const token = authorization?.replace(/^Bearer /, "") ?? null;
    exchanges.push({ operation, token, variables: sent.variables ?? null, answer });
  });
  const runs = (name) => exchanges.filter((e) => e.operation === name);
  async function runUsersPage(count) {
    await page.click(".graphiql-execute-button");
    const deadline = Date.now() + 20000;
    while (runs("UsersPage").length < count && Date.now() < deadline) await page.waitForTimeout(100);
    return runs("UsersPage").at(-1);
  }

  const response = await page.goto(url, { waitUntil: "networkidle" });
  report.csp = response.headers()["content-security-policy"] ?? null;
  await page.waitForSelector("#gatehouse-email", { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector("#gatehouse-schema")?.textContent.startsWith("No schema"));
  report.anonymousSchema = await page.textContent("#gatehouse-schema");
  report.tabs = await page.$$eval(".graphiql-tab", (tabs) => tabs.map((t) => t.innerText.trim()));
  report.explorer = (await page.$$('.graphiql-sidebar button[aria-label*="Explorer"]')).length > 0;
  report.labels = await page.$$eval(".gatehouse-console label", (ls) => ls.map((l) => l.textContent));

  // Sign in: password, then the second factor.
  await page.fill("#gatehouse-email", email);
  await page.fill("#gatehouse-password", password);
  await page.click('.gatehouse-console button[type="submit"]');
  await page.waitForSelector("#gatehouse-code", { timeout: 15000 });
  secrets.add(code);
  await page.fill("#gatehouse-code", code);
  await page.click('.gatehouse-console button[type="submit"]');
  await page.waitForSelector("#gatehouse-user", { timeout: 15000 });
  report.signedInAs = await page.textContent("#gatehouse-user");
  report.role = await page.textContent("#gatehouse-role");
  await page.waitForFunction(() => document.querySelector("#gatehouse-schema")?.textContent.startsWith("Schema loaded"), null, { timeout: 15000 });
  report.signInOperations = exchanges.map((e) => e.operation);

  // The users page from the first ready-made tab.
  const first = await runUsersPage(1);
  report.firstRows = first?.answer?.data?.users?.edges?.length ?? 0;
  report.firstVariables = first?.variables;
  await page.waitForFunction(() => document.querySelector(".graphiql-response")?.innerText.includes("@example.com"), null, { timeout: 15000 });
  const firstToken = first?.token;
  if (shot) await page.screenshot({ path: shot });

  // Let that access token expire; the panel refreshes on its own before it does.
  const waitMs = jwtExp(firstToken) * 1000 - Date.now() + 1500;
  report.waitedMs = waitMs;
  if (waitMs > 90000) throw new Error(`access token lives ${waitMs} ms: the test wants 60 s`);
  await page.waitForTimeout(Math.max(0, waitMs));
  const second = await runUsersPage(2);
  report.secondRows = second?.answer?.data?.users?.edges?.length ?? 0;
  report.secondErrors = second?.answer?.errors ?? null;
  report.tokenChanged = Boolean(second?.token) && second.token !== firstToken;
  report.firstTokenExpired = jwtExp(firstToken) * 1000 < Date.now();
  report.refreshes = runs("GatehouseConsoleRefresh").map((e) => e.answer?.data?.refreshToken?.__typename);
  report.stillSignedIn = await page.textContent("#gatehouse-user").catch(() => null);

  // Sign out: the session ends on the server; the next admin query is refused.
  const lastToken = second?.token;
  await page.click('.gatehouse-console button:has-text("Sign out")');
  await page.waitForSelector("#gatehouse-email", { timeout: 15000 });
  report.signedOutNotice = await page.textContent("#gatehouse-status");
  report.logout = runs("GatehouseConsoleLogout").map((e) => e.answer?.data?.logout ?? e.answer);
  const third = await runUsersPage(3);
  report.afterSignOut = {
    sentToken: third?.token ?? null,
    codes: (third?.answer?.errors ?? []).map((e) => e.extensions?.code),
    data: third?.answer?.data ?? null,
  };
  report.lastToken = lastToken; // the Python side checks the server refuses it now

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
