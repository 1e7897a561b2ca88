// passkeys.js: the exampleapp page's one script. It runs the WebAuthn
// ceremonies (W3C Web Authentication Level 3) of the forms marked
// data-passkey="create" (register a passkey) or data-passkey="get" (sign
// in, or confirm it is you, with one). On submit it asks the JSON API's
// begin endpoint (data-begin) for a challenge and the options, hands them
// to navigator.credentials, and submits the form with the challenge id
// and the credential as JSON. The server verifies everything; the script
// only carries the ceremony. No framework, no other origin.
"use strict";

(() => {
  const supported = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

  // base64url <-> ArrayBuffer, for browsers without the JSON helpers of
  // WebAuthn L3 (parse*OptionsFromJSON, toJSON).
  const decode = (s) => {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(s + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buf) => {
    let s = "";
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const withIDs = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));

  const creationOptions = (o) => {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    return { ...o, challenge: decode(o.challenge), user: { ...o.user, id: decode(o.user.id) }, excludeCredentials: withIDs(o.excludeCredentials) };
  };
  const requestOptions = (o) => {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    return { ...o, challenge: decode(o.challenge), allowCredentials: withIDs(o.allowCredentials) };
  };
  const credentialJSON = (c) => {
    if (typeof c.toJSON === "function") return c.toJSON();
    const r = c.response, out = {
      id: c.id, rawId: encode(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
      response: { clientDataJSON: encode(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) out.response.userHandle = encode(r.userHandle);
    }
    return out;
  };

  // begin asks the API for a ceremony; it answers the envelope's data, or
  // throws with the API's message. A sensitive action that needs a recent
  // authentication goes to the re-authentication page.
  const begin = async (url) => {
    const res = await fetch(url, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
    let env = null;
    try { env = await res.json(); } catch (_) { /* not JSON */ }
    if (res.ok && env && env.success) return env.data;
    const code = env && env.data && env.data.code;
    if (code === "REAUTH_REQUIRED") {
      location.assign("/account/reauth");
      throw new Error("Please confirm it is you first.");
    }
    throw new Error((env && env.message) || "The server did not answer (" + res.status + "). Please try again.");
  };

  const words = (e) => {
    switch (e && e.name) {
      case "NotAllowedError": return "The passkey prompt was closed or timed out. Please try again.";
      case "InvalidStateError": return "This device holds a passkey for your account already.";
      case "SecurityError": return "Passkeys do not work on this address (open the page at its configured origin).";
      case "AbortError": return "The passkey prompt was cancelled.";
    }
    return (e && e.message) || "The passkey did not work.";
  };

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    if (!supported) continue; // stays hidden; the page says why
    form.hidden = false;
    const alert = form.querySelector("[data-passkey-error]");
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (alert) alert.hidden = true;
      button.disabled = true;
      try {
        const started = await begin(form.dataset.begin);
        const pk = started.options.publicKey;
        const cred = form.dataset.passkey === "create"
          ? await navigator.credentials.create({ publicKey: creationOptions(pk) })
          : await navigator.credentials.get({ publicKey: requestOptions(pk) });
        form.elements.challengeId.value = started.challengeId;
        form.elements.credential.value = JSON.stringify(credentialJSON(cred));
        // A "trust this device" box outside the form (the challenge page's).
        const trust = form.dataset.trustFrom && document.getElementById(form.dataset.trustFrom);
        if (trust && form.elements.trust) form.elements.trust.value = trust.checked ? "yes" : "";
        form.submit();
      } catch (e) {
        if (alert) {
          alert.textContent = words(e);
          alert.hidden = false;
        }
        button.disabled = false;
      }
    });
  }
  for (const note of document.querySelectorAll("[data-passkey-unsupported]")) note.hidden = supported;
})();
