// Open GraphiQL in headless Chromium, run a query, and fail on any CSP violation,
// console error, page error, failed or off-origin request, or a missing result.
// usage: node check_graphiql.mjs http://127.0.0.1:PORT/graphql screenshot.png
import { chromium } from "playwright-core";

const url = process.argv[2];
const origin = new URL(url).origin;
const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1300, height: 800 } });
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
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });

  const response = await page.goto(url, { waitUntil: "networkidle" });
  if (!response.headers()["content-security-policy"]) problems.push("no CSP header");
  const editor = ".graphiql-query-editor .CodeMirror";
  await page.waitForSelector(editor, { timeout: 20000 });
  await page.click(editor);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type("{ serverInfo { name apiVersion", { delay: 10 });
  await page.keyboard.press("Escape");
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(
    () => document.querySelector(".graphiql-response")?.innerText.includes("gatehouse"),
    null, { timeout: 15000 },
  );
  problems.push(...(await page.evaluate(() => window.__csp)).map((v) => `csp: ${v}`));
  if (process.argv[3]) await page.screenshot({ path: process.argv[3] });
} catch (error) {
  problems.push(`error: ${error.message}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ problems }));
process.exit(problems.length ? 1 : 0);
