// Gatehouse as an OpenID provider in headless Chromium, for a server-side relying party
// (tests/browser/oidc_rp.py: Starlette and authlib's client). The browser opens the
// RP's /login, signs in on Gatehouse's built-in pages (email and password, then the
// TOTP code), allows the consent page and comes back to the RP's callback; then it
// opens the RP's /refresh, /introspect, /revoke, /introspect, /logout (through
// Gatehouse's end-session endpoint back to the RP) and /login once more, which must
// show Gatehouse's sign-in page again. Each RP page holds one JSON object in #result.
// usage: node check_oidc_rp.mjs <rp origin> <email> <password> <totp code>
// Prints one JSON line: {problems, requests, csp, steps, ...}.
import { chromium } from "playwright-core";

const [rp, email, password, code] = process.argv.slice(2);
const problems = [];
const requests = []; // every navigation request of the tab, redirects included
const steps = {};
const report = { problems, requests, steps, csp: {} };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext();
  // A violation of a page's policy is reported whether or not Chromium logs it.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`csp violation: ${e.violatedDirective} ${e.blockedURI} on ${location.pathname}`);
    });
  });
  const page = await context.newPage();
  const where = () => { try { return new URL(page.url()).pathname; } catch { return page.url(); } };
  page.on("pageerror", (e) => problems.push(`pageerror on ${where()}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()} on ${where()}: ${m.text()}`);
  });
  page.on("request", (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      requests.push(`${request.method()} ${request.url().split("?")[0]}`);
    }
  });
  // The policy each of Gatehouse's pages was served with.
  page.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && response.status() === 200) {
      const path = new URL(response.url()).pathname;
      if (path.startsWith("/oauth2/")) report.csp[path] = response.headers()["content-security-policy"];
    }
  });
  const result = async (path) => {
    await page.waitForURL((url) => url.origin === rp && url.pathname === path, { timeout: 20000 });
    await page.waitForSelector("#result", { state: "attached", timeout: 20000 });
    return JSON.parse(await page.textContent("#result"));
  };
  const open = async (path, name) => {
    await page.goto(rp + path);
    steps[name] = await result(path);
  };

  await page.goto(`${rp}/login`);
  await page.waitForSelector('input[name="email"]', { timeout: 20000 });
  report.signInUrl = page.url().split("?")[0];
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);

  await page.waitForSelector('input[name="code"]', { timeout: 20000 });
  await page.fill('input[name="code"]', code);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);

  await page.waitForSelector('button[value="allow"]', { timeout: 20000 });
  report.consentHeading = await page.textContent("h1");
  report.consentItems = await page.$$eval("li", (items) => items.map((i) => i.textContent));
  await page.click('button[value="allow"]');
  steps.callback = await result("/callback");

  await open("/refresh", "refresh");
  await open("/introspect", "introspectBefore");
  await open("/revoke", "revoke");
  await open("/introspect", "introspectAfter");
  await page.goto(`${rp}/logout`);
  steps.afterLogout = await result("/after-logout");

  // The provider's session ended: a new sign-in starts on its sign-in page.
  requests.push("-- again");
  await page.goto(`${rp}/login`);
  await page.waitForSelector('input[name="email"]', { timeout: 20000 });
  report.againUrl = page.url().split("?")[0];
} catch (error) {
  problems.push(`driver: ${error.message}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
