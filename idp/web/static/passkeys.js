// Passkeys (Web Authentication Level 3): adding one on the account page, signing in with one on
// the login page. The server (idp/web/passkeys.py) sends the options as JSON with binary fields
// in base64url (the encoding of WebAuthn L3 §5.1.8, toJSON()); they are converted here by hand
// so that browsers without PublicKeyCredential.parseCreationOptionsFromJSON work too. Every POST
// carries the CSRF token in X-CSRFToken and goes to this origin only.
'use strict';

(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) return;  // the button stays hidden

  function toBytes(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(b64 + '==='.slice((b64.length + 3) % 4)), (c) => c.charCodeAt(0));
  }

  function toText(buffer) {
    let binary = '';
    for (const b of new Uint8Array(buffer)) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBytes(d.id) }));

  function creationOptions(json) {
    return {
      ...json,
      challenge: toBytes(json.challenge),
      user: { ...json.user, id: toBytes(json.user.id) },
      excludeCredentials: descriptors(json.excludeCredentials),
    };
  }

  function requestOptions(json) {
    return { ...json, challenge: toBytes(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
  }

  // PublicKeyCredential as RegistrationResponseJSON / AuthenticationResponseJSON (§5.1).
  function credentialJSON(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  async function post(url, csrf, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (error) { data = {}; }
    return { ok: response.ok, data };
  }

  const csrfOf = (form) => form.elements.csrf_token.value;

  // A refusal from the server carries its own message; the browser's own errors (the person
  // cancelled, or the authenticator said no) are NotAllowedError, InvalidStateError and the like.
  async function ceremony(root, statusLine, run) {
    statusLine.textContent = '';
    try {
      const outcome = await run();
      if (outcome.ok && outcome.data.redirect) {
        window.location.assign(outcome.data.redirect);
        return;
      }
      statusLine.textContent = outcome.data.message || root.dataset.failed;
    } catch (error) {
      statusLine.textContent = error && error.name === 'NotAllowedError'
        ? root.dataset.cancelled : root.dataset.failed;
    }
  }

  const adding = document.getElementById('passkey-add');
  if (adding) {
    adding.hidden = false;
    const status = document.getElementById('passkey-add-status');
    adding.addEventListener('submit', (event) => {
      event.preventDefault();
      ceremony(adding, status, async () => {
        const options = await post(adding.dataset.options, csrfOf(adding));
        if (!options.ok) return options;
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options.data) });
        return post(adding.action, csrfOf(adding), {
          name: document.getElementById('passkey-name').value,
          credential: credentialJSON(credential),
        });
      });
    });
  }

  const signIn = document.getElementById('passkey-sign-in');
  if (signIn) {
    signIn.hidden = false;
    const status = document.getElementById('passkey-sign-in-status');
    signIn.addEventListener('submit', (event) => {
      event.preventDefault();
      ceremony(signIn, status, async () => {
        const options = await post(signIn.dataset.options, csrfOf(signIn));
        if (!options.ok) return options;
        const credential = await navigator.credentials.get({ publicKey: requestOptions(options.data) });
        return post(signIn.action, csrfOf(signIn), { credential: credentialJSON(credential) });
      });
    });
  }
})();
