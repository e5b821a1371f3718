// The wallet's holder side (docs/formats.md "Presentation"): a P-256 key made here with
// WebCrypto, non-extractable, kept in IndexedDB; every 30 s it signs "YH1P" || step || credential
// and the page shows [credential, step, signature] as base45 text in a QR code. To get the
// credential it proves it holds the key (OpenID4VCI 1.0 Appendix F.1): a JWT over the provider's
// one-time c_nonce, signed by the same key, so the provider binds no other key.
'use strict';

(() => {
  const root = document.getElementById('wallet');
  if (!root) return;
  const STEP_SECONDS = 30;
  const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  const select = document.getElementById('purpose');
  const qr = document.getElementById('qr');
  const countdown = document.getElementById('countdown');
  const statusLine = document.getElementById('wallet-status');
  let holder = null;
  let credential = null;
  let shownStep = null;

  function request(store, mode, action) {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open('yihao-wallet', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('keys');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const req = action(open.result.transaction(store, mode).objectStore(store));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      };
    });
  }

  async function holderKey() {
    let pair = await request('keys', 'readonly', (s) => s.get('holder'));
    if (!pair) {
      // extractable = false: the private key can sign but can never be read out of the browser.
      pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      await request('keys', 'readwrite', (s) => s.put(pair, 'holder'));
    }
    return pair;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  function cborHead(major, n) {  // RFC 8949 §3: the shortest head, as cbor2 writes it
    const m = major << 5;
    if (n < 24) return Uint8Array.of(m | n);
    if (n < 0x100) return Uint8Array.of(m | 24, n);
    if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
    const b = new Uint8Array(5);
    b[0] = m | 26;
    new DataView(b.buffer).setUint32(1, n);
    return b;
  }

  const bstr = (bytes) => concat(cborHead(2, bytes.length), bytes);

  function uint64(n) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    return b;
  }

  function base45(bytes) {  // RFC 9285 §4
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const n = bytes[i] * 256 + bytes[i + 1];
      out += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
    }
    if (bytes.length % 2) {
      const n = bytes[bytes.length - 1];
      out += B45[n % 45] + B45[Math.floor(n / 45)];
    }
    return out;
  }

  async function deflate(bytes) {  // "deflate" in CompressionStream is the zlib format
    const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  function base64url(bytes) {
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const jsonPart = (value) => base64url(new TextEncoder().encode(JSON.stringify(value)));

  function fromBase64url(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(b64 + '==='.slice((b64.length + 3) % 4)), (c) => c.charCodeAt(0));
  }

  async function qrText(step) {
    const message = concat(new TextEncoder().encode('YH1P'), uint64(step), credential);
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, holder.privateKey, message));
    const body = concat(Uint8Array.of(0x83), bstr(credential), cborHead(0, step), bstr(signature));
    let chosen = body;
    if (window.CompressionStream) {
      const packed = await deflate(body);
      if (packed.length < body.length) chosen = packed;
    }
    return 'YH1:' + base45(chosen);
  }

  function fail(error) {
    statusLine.textContent = root.dataset.failed;
    console.error(error);
  }

  async function draw(step) {
    const response = await fetch('/wallet/qr', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': root.dataset.csrf },
      body: JSON.stringify({ text: await qrText(step) }),
    });
    if (!response.ok) throw new Error('QR ' + response.status);
    qr.innerHTML = await response.text();
    qr.dataset.step = String(step);
    shownStep = step;
  }

  function tick() {
    if (!credential) return;
    const now = Date.now() / 1000;
    const step = Math.floor(now / STEP_SECONDS);
    const left = Math.ceil((step + 1) * STEP_SECONDS - now);
    countdown.textContent = root.dataset.countdown.replace('{s}', String(left));
    if (step !== shownStep) draw(step).catch(fail);
  }

  function api(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + root.dataset.token },
      body: JSON.stringify(body || {}),
    });
  }

  // A compact JWS (RFC 7515 §7.1) signed by WebCrypto: ES256 signatures are r || s (RFC 7518
  // §3.4), exactly what crypto.subtle.sign returns for ECDSA.
  async function keyProof(nonce) {
    const jwk = await crypto.subtle.exportKey('jwk', holder.publicKey);
    const header = {
      typ: 'openid4vci-proof+jwt', alg: 'ES256', jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    };
    const claims = {
      iss: root.dataset.clientId, aud: root.dataset.issuer, iat: Math.floor(Date.now() / 1000), nonce,
    };
    const signingInput = jsonPart(header) + '.' + jsonPart(claims);
    const signature = new Uint8Array(await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' }, holder.privateKey, new TextEncoder().encode(signingInput)));
    return signingInput + '.' + base64url(signature);
  }

  async function issue(identifier, profile) {
    const nonced = await api('/credentials/nonce');
    if (nonced.status === 401) { window.location.reload(); return null; }
    if (!nonced.ok) throw new Error('nonce ' + nonced.status);
    const proof = await keyProof((await nonced.json()).c_nonce);
    const response = await api('/credentials/issue', { identifier, profile, proofs: { jwt: [proof] } });
    if (response.status === 401) { window.location.reload(); return null; }
    if (!response.ok) throw new Error('issue ' + response.status);
    return fromBase64url((await response.json()).credential);
  }

  function showReveals() {
    for (const list of document.querySelectorAll('.reveal')) {
      list.hidden = list.dataset.purpose !== select.value;
    }
  }

  document.getElementById('picker').addEventListener('submit', async (event) => {
    event.preventDefault();
    statusLine.textContent = '';
    try {
      holder = holder || await holderKey();
      const [identifier, profile] = select.value.split('|');
      credential = await issue(identifier, profile);
      shownStep = null;
      tick();
    } catch (error) {
      fail(error);
    }
  });
  select.addEventListener('change', showReveals);
  showReveals();
  setInterval(tick, 1000);
})();
