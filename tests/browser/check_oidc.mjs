// Gatehouse as an OpenID provider in headless Chromium: the relying party's page (a
// public client on 127.0.0.1) sends the browser to /oauth2/authorize; the person signs
// in on Gatehouse's built-in pages (email and password, then the TOTP code) and allows
// the consent page; back on the relying party's callback page, its script exchanges the
// code (PKCE), verifies the ID token against the JWKS and calls userinfo.
// usage: node check_oidc.mjs <page url> <email> <password> <totp code>
// Prints one JSON line: {problems, pages, outcome, ...}.
import { chromium } from "playwright-core";

const [pageUrl, email, password, code] = process.argv.slice(2);
const problems = [];
const pages = [];
const report = { problems, pages, csp: {} };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) pages.push(frame.url().split("?")[0]);
  });
  // The policy each of Gatehouse's pages was served with.
  page.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && response.status() === 200) {
      const path = new URL(response.url()).pathname;
      if (path.startsWith("/oauth2/")) report.csp[path] = response.headers()["content-security-policy"];
    }
  });
  const app = new URL(pageUrl).origin;

  await page.goto(pageUrl);
  await page.waitForFunction(() => document.getElementById("status").textContent === "ready");
  await page.click("#sign-in");

  await page.waitForSelector('input[name="email"]', { timeout: 20000 });
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

  await page.waitForURL((url) => url.origin === app && url.pathname === "/callback.html", { timeout: 20000 });
  await page.waitForFunction(() => window.oidcOutcome !== undefined, null, { timeout: 20000 });
  report.outcome = await page.evaluate(() => window.oidcOutcome);
  report.finalUrl = page.url();
} catch (error) {
  problems.push(`driver: ${error.message}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
