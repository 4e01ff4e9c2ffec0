// Social sign-in in headless Chromium: the app's page on 127.0.0.1 asks Gatehouse for
// the authorization URL and sends the browser to the provider (Canaille, run by
// pytest-iam on localhost); the person types their login and password on the
// provider's own pages and accepts its consent page; the provider redirects to the
// app's callback page, which calls completeSocialSignIn and then `me`.
// usage: node check_social.mjs <page url> <login> <password>
// Prints one JSON line: {problems, pages, outcome}.
import { chromium } from "playwright-core";

const [pageUrl, login, password] = process.argv.slice(2);
const problems = [];
const pages = [];
const report = { problems, pages };

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
  // Each top-level page the browser lands on, without its query (codes and states).
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) pages.push(frame.url().split("?")[0]);
  });
  const app = new URL(pageUrl).origin;

  await page.goto(pageUrl);
  await page.waitForFunction(() => document.getElementById("status").textContent === "ready");
  await page.click("#sign-in");

  // The provider's login page: the identifier, then the password.
  await page.waitForSelector('input[name="login"]', { timeout: 20000 });
  report.providerOrigin = new URL(page.url()).origin;
  await page.fill('input[name="login"]', login);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"][name="answer"]')]);
  await page.waitForSelector('input[name="password"]', { timeout: 20000 });
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);

  // The provider's consent page for this client.
  await page.waitForSelector("button#accept", { timeout: 20000 });
  report.consentPage = new URL(page.url()).pathname;
  await page.click("button#accept");

  // Back on the app's callback page, which finishes the sign-in.
  await page.waitForURL((url) => url.origin === app && url.pathname === "/callback.html", { timeout: 20000 });
  await page.waitForFunction(() => window.socialOutcome !== undefined, null, { timeout: 20000 });
  report.outcome = await page.evaluate(() => window.socialOutcome);
  report.finalUrl = page.url();
} catch (error) {
  problems.push(`driver: ${error.message}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
