// Passkeys in headless Chromium with its virtual authenticator (DevTools' WebAuthn
// domain: CTAP2, internal transport, resident keys, user verification), on a page served
// from http://localhost (the RP ID) that calls Gatehouse's GraphQL.
// usage: node check_passkeys.mjs <page url> <email> <password>
// Register a passkey, sign out, sign in usernameless; turn two-factor on; sign in with
// the password and answer its second factor with the passkey.
// Prints one JSON line: {problems, ...steps}.
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const [pageUrl, email, password] = process.argv.slice(2);
const problems = [];
const report = { problems };

function expect(step, answer, typename) {
  report[step] = answer?.__typename ?? answer;
  if (answer?.__typename !== typename) problems.push(`${step}: ${JSON.stringify(answer)}`);
  return answer;
}

// RFC 6238 with the defaults Gatehouse uses (SHA-1, 6 digits, 30 s).
function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

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
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.passkeys !== undefined);
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
  const run = (fn, ...args) => page.evaluate(([name, values]) => window.passkeys[name](...values), [fn, args]);

  const signedIn = expect("passwordLogin", await run("passwordLogin", email, password), "AuthPayload");
  const added = expect("addPasskey", await run("addPasskey", signedIn.accessToken, "Chromium"), "PasskeyAdded");
  report.passkey = added.passkey;
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  report.storedCredentials = credentials.map((c) => ({ resident: c.isResidentCredential, rpId: c.rpId, signCount: c.signCount }));
  report.logout = (await run("logout", signedIn.accessToken)).sessionsEnded;

  const usernameless = expect("usernameless", await run("passkeyLogin"), "AuthPayload");
  report.usernamelessEmail = usernameless.user?.email;

  // Two-factor on (the passkey sign-in is a recent sign-in), then signed out.
  const enrollment = await run("call", "mutation { beginTotpEnrollment { ... on TotpEnrollment { secret } } }", {}, usernameless.accessToken);
  expect("confirmTotp", await run("call", "mutation($c: String!) { confirmTotpEnrollment(code: $c) { __typename } }",
    { c: totp(enrollment.secret) }, usernameless.accessToken), "BackupCodes");
  await run("logout", usernameless.accessToken);

  const challenged = expect("passwordWithTwoFactor", await run("passwordLogin", email, password), "MfaRequired");
  const secondFactor = expect("passkeyAsSecondFactor", await run("passkeyLogin", challenged.challengeToken), "AuthPayload");
  report.secondFactorEmail = secondFactor.user?.email;
  expect("oneGesture", await run("passkeyLogin"), "AuthPayload");
  const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  report.signCountAfter = after.credentials.map((c) => c.signCount);
} catch (error) {
  problems.push(`error: ${error.stack ?? error}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
