// The built-in sign-in page's passkey button (resolvers/http/oauth/passkey_pages.py).
// Served from Gatehouse's own origin; the page's CSP allows this script and fetch to
// 'self' only. Without WebAuthn the button stays hidden and the page works as before.
"use strict";
(function () {
  var button = document.getElementById("passkey-sign-in");
  var form = document.getElementById("passkey-form");
  var status = document.getElementById("passkey-status");
  if (!button || !form || !status || !window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function failed() {
    status.textContent = status.getAttribute("data-failed");
    status.hidden = false;
    button.disabled = false;
  }

  async function signIn() {
    button.disabled = true;
    status.hidden = true;
    var body = new URLSearchParams();
    body.set("challenge", form.elements.challenge.value);
    body.set("csrf", form.elements.csrf.value);
    var answer = await fetch(button.getAttribute("data-begin"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!answer.ok) throw new Error("begin refused");
    var begun = await answer.json();
    var options = begun.options;
    var credential = await navigator.credentials.get({
      publicKey: {
        challenge: toBytes(options.challenge),
        timeout: options.timeout,
        rpId: options.rpId,
        userVerification: options.userVerification,
        allowCredentials: (options.allowCredentials || []).map(function (c) {
          return { type: c.type, id: toBytes(c.id), transports: c.transports };
        }),
      },
    });
    var response = credential.response;
    form.elements.attempt.value = begun.attemptId;
    form.elements.credential.value = JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null,
      },
    });
    form.submit();
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    signIn().catch(failed);
  });
})();
