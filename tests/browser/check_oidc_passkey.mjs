// The built-in sign-in page's passkey button in headless Chromium: its virtual
// authenticator holds the person's discoverable passkey (added over DevTools); the
// driver opens /oauth2/authorize, waits for Gatehouse's own script to show the button,
// clicks it, and follows the redirect back to the client (a stub on 127.0.0.1).
// A CSP violation or script error is a console error, so it lands in `problems`.
// usage: node check_oidc_passkey.mjs <authorize url> <client redirect uri> <credential json>
// Prints one JSON line: {problems, csp, buttonVisible, finalUrl}.
import { chromium } from "playwright-core";

const [authorizeUrl, redirectUri, credentialJson] = process.argv.slice(2);
const problems = [];
const report = { problems };

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
  page.on("response", (response) => {
    if (response.request().isNavigationRequest() && new URL(response.url()).pathname === "/oauth2/login") {
      report.csp = response.headers()["content-security-policy"];
    }
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await cdp.send("WebAuthn.addCredential", { authenticatorId, credential: JSON.parse(credentialJson) });

  await page.goto(authorizeUrl);
  await page.waitForSelector("#passkey-sign-in:not([hidden])", { timeout: 20000 });
  report.buttonVisible = true;
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(redirectUri), { timeout: 20000 }),
    page.click("#passkey-sign-in"),
  ]);
  report.finalUrl = page.url();
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  report.signCount = credentials.map((c) => c.signCount);
} catch (error) {
  problems.push(`driver: ${error.message}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
