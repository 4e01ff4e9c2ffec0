// Several tabs of a page using clients/web/ in one headless Chromium context (so they
// share Web Locks and BroadcastChannel), against the real Gatehouse server.
// usage: node check_web_client.mjs <scenario> <page url> <graphql url> <email> <password>
// scenarios: together (all tabs refresh at once), revoked (another device ends the
// session), lost (the first refresh answer is dropped on the way back).
// Prints one JSON line: {problems, ...measurements}.
import { chromium } from "playwright-core";

const [scenario, pageUrl, apiUrl, email, password] = process.argv.slice(2);
const TABS = 4;
const problems = [];
const report = { scenario, problems };

async function graphql(query, variables, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(apiUrl, {
    method: "POST", headers, body: JSON.stringify({ query, variables }),
  });
  return (await response.json()).data;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext();
  const refreshes = [];
  context.on("request", (request) => {
    if (request.method() === "POST" && (request.postData() ?? "").includes('"operationName":"Refresh"')) {
      refreshes.push(request.url());
    }
  });
  if (scenario === "lost") {
    let dropped = false;
    await context.route(apiUrl, async (route) => {
      const body = route.request().postData() ?? "";
      if (!dropped && body.includes('"operationName":"Refresh"')) {
        dropped = true;
        await route.fetch(); // the server rotates...
        await route.abort("connectionreset"); // ...and the answer never arrives
        return;
      }
      await route.continue();
    });
  }
  const tabs = [];
  for (let i = 0; i < TABS; i += 1) {
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`tab ${i} pageerror: ${e.message}`));
    page.on("console", (m) => {
      // The answer this scenario drops on purpose is logged as a failed load.
      if (scenario === "lost" && m.text().includes("ERR_CONNECTION_RESET")) return;
      if (m.type() === "error") problems.push(`tab ${i} console: ${m.text()}`);
    });
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.gatehouse !== undefined);
    if (i === 0) {
      const outcome = await page.evaluate(([e, p]) => window.gatehouse.login(e, p), [email, password]);
      if (outcome !== "AuthPayload") throw new Error(`login answered ${outcome}`);
    }
    tabs.push(page);
  }
  // The later tabs were never signed in: they adopt the first tab's pair over the channel.
  await Promise.all(tabs.map((t) => t.waitForFunction(() => window.gatehouse.session() !== null, null, { timeout: 5000 })));
  const before = await tabs[0].evaluate(() => window.gatehouse.session());
  report.sessionId = before.sessionId;
  report.loginRefreshToken = before.refreshToken;

  if (scenario === "together" || scenario === "lost") {
    const at = Date.now() + 1000;
    report.refreshOutcomes = await Promise.all(tabs.map((t) => t.evaluate((when) => window.gatehouse.refreshAt(when), at)));
    // A tab that waited on the lock may adopt the broadcast pair a moment later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    report.refreshRequests = refreshes.length;
    const sessions = await Promise.all(tabs.map((t) => t.evaluate(() => window.gatehouse.session())));
    report.refreshTokens = [...new Set(sessions.map((s) => s?.refreshToken ?? null))];
    report.me = await Promise.all(tabs.map((t) => t.evaluate(() => window.gatehouse.me())));
    report.signedOut = await Promise.all(tabs.map((t) => t.evaluate(() => window.gatehouse.state.signedOutReason)));
  } else if (scenario === "revoked") {
    // Another device: its own session ends them all.
    const other = await graphql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { accessToken } } }`,
      { e: email, p: password },
    );
    // The live socket needs a moment to subscribe.
    await tabs[0].waitForTimeout(1000);
    const revokedAt = Date.now();
    const ended = await graphql("mutation { logoutAll { sessionsEnded } }", {}, other.login.accessToken);
    report.sessionsEnded = ended.logoutAll.sessionsEnded;
    await Promise.all(tabs.map((t) => t.waitForFunction(() => window.gatehouse.state.signedOutAt !== null, null, { timeout: 5000 })));
    const states = await Promise.all(tabs.map((t) => t.evaluate(() => window.gatehouse.state)));
    report.signedOutAfterMs = states.map((s) => s.signedOutAt - revokedAt);
    report.signedOut = states.map((s) => s.signedOutReason);
    report.me = await Promise.all(tabs.map((t) => t.evaluate(() => window.gatehouse.me())));
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
} catch (error) {
  problems.push(`error: ${error.message}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
process.exit(problems.length ? 1 : 0);
