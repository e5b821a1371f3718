#!/usr/bin/env node
// A relying party built only from panva's certified openid-client (6.x, functional API), for
// tests/e2e/test_openid_client_node.py. Nothing here checks the provider's answers itself: every
// check (discovery issuer, state, RFC 9207 iss, PKCE, ID token signature/iss/aud/exp/nonce,
// userinfo sub) is the library's own.
//
//   node rp.mjs start  <issuer> <client_id> <client_secret> <redirect_uri> <scope>
//     -> {"url", "state", "nonce", "verifier"}
//   node rp.mjs finish <issuer> <client_id> <client_secret> <callback_url> <state> <nonce> <verifier>
//     -> {"claims", "userinfo", "refreshed": {"has_access_token", "id_token_claims"?}}
//   node rp.mjs register <issuer> <initial_access_token> <redirect_uri> <scope>
//     -> {"client_id", "client_secret", "scope"}   (RFC 7591, the library's own request)
//
// The FAPI 2.0 client: private_key_jwt (RFC 7523) instead of a secret, and DPoP-bound tokens
// (RFC 9449), the library retrying use_dpop_nonce by itself. <profile.json> holds what such a
// client keeps: {"issuer", "client_id", "client_key": private JWK with kid, "dpop_key": private
// JWK}; the same DPoP key across commands, so later steps (PAR at start) can bind to it too.
//   node rp.mjs fapi2-start  <profile.json> <redirect_uri> <scope>
//     -> {"url", "state", "nonce", "verifier", "exchanges"}   (url: client_id and request_uri only)
//   node rp.mjs fapi2-finish <profile.json> <callback_url> <state> <nonce> <verifier>
//     -> {"claims", "userinfo", "token_type", "access_token", "refreshed": {"token_type",
//         "has_access_token", "access_token"}, "exchanges": [{"method", "path", "status",
//         "proof_nonce", "error"?}]}   (every request made, to show the nonce round trips)
//
// Any failure: the error (name, code, message, and the OAuth error if the server sent one) on
// stderr and exit status 1.

import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';

const USAGE = `usage:
  node rp.mjs start  <issuer> <client_id> <client_secret> <redirect_uri> <scope>
  node rp.mjs finish <issuer> <client_id> <client_secret> <callback_url> <state> <nonce> <verifier>
  node rp.mjs register <issuer> <initial_access_token> <redirect_uri> <scope>
  node rp.mjs fapi2-start  <profile.json> <redirect_uri> <scope>
  node rp.mjs fapi2-finish <profile.json> <callback_url> <state> <nonce> <verifier>`;

// Plain HTTP is allowed only because the test provider listens on loopback; the flag also
// covers the discovery request itself.
async function configure(issuer, clientId, clientSecret) {
  return client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    // The test registers the client with the provider's default method, client_secret_basic.
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
}

async function start([issuer, clientId, clientSecret, redirectUri, scope]) {
  return authorizationRequest(await configure(issuer, clientId, clientSecret), redirectUri, scope);
}

async function authorizationRequest(config, redirectUri, scope) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, state, nonce, verifier };
}

async function finish([issuer, clientId, clientSecret, callbackUrl, state, nonce, verifier]) {
  const config = await configure(issuer, clientId, clientSecret);
  // The redirect_uri sent to the token endpoint is the callback URL without its query.
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (claims === undefined) throw new Error('no ID token in the token response');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  if (!tokens.refresh_token) throw new Error('no refresh_token in the token response');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const result = {
    claims,
    userinfo,
    refreshed: {
      has_access_token:
        typeof refreshed.access_token === 'string' &&
        refreshed.access_token.length > 0 &&
        refreshed.access_token !== tokens.access_token,
    },
  };
  const refreshedClaims = refreshed.claims();
  if (refreshedClaims !== undefined) result.refreshed.id_token_claims = refreshedClaims;
  return result;
}

// The FAPI 2.0 mode. ES256 keys only (P-256 JWKs), as the test makes them.
const ES256 = { name: 'ECDSA', namedCurve: 'P-256' };

async function readProfile(path) {
  return JSON.parse(await readFile(path, 'utf8'));
}

async function keyPair(jwk) {
  const { d, ...pub } = jwk;
  return {
    privateKey: await crypto.subtle.importKey('jwk', jwk, ES256, false, ['sign']),
    // DPoP puts the public key in each proof's header, so it must be exportable.
    publicKey: await crypto.subtle.importKey('jwk', pub, ES256, true, ['verify']),
  };
}

// Every request the library makes, with the nonce its DPoP proof carried, if any.
function recordingFetch(exchanges) {
  return async (url, options) => {
    const response = await fetch(url, options);
    const proof = new Headers(options.headers).get('dpop');
    const entry = {
      method: options.method ?? 'GET',
      path: new URL(url).pathname,
      status: response.status,
      proof_nonce: proof ? JSON.parse(Buffer.from(proof.split('.')[1], 'base64url')).nonce ?? null : null,
    };
    if (response.status >= 400) {
      const body = await response.clone().text();
      entry.error = body.startsWith('{') ? JSON.parse(body).error : response.headers.get('www-authenticate');
    }
    exchanges.push(entry);
    return response;
  };
}

async function configureFapi2(profile, exchanges) {
  const key = (await keyPair(profile.client_key)).privateKey;
  return client.discovery(
    new URL(profile.issuer),
    profile.client_id,
    undefined,
    client.PrivateKeyJwt({ key, kid: profile.client_key.kid }),
    { execute: [client.allowInsecureRequests], [client.customFetch]: recordingFetch(exchanges) },
  );
}

// FAPI 2.0 5.3.2.2: the request goes to the pushed authorization request endpoint (RFC 9126),
// authenticated with private_key_jwt; the browser carries only client_id and request_uri.
async function fapi2Start([profilePath, redirectUri, scope]) {
  const exchanges = [];
  const config = await configureFapi2(await readProfile(profilePath), exchanges);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, state, nonce, verifier, exchanges };
}

async function fapi2Finish([profilePath, callbackUrl, state, nonce, verifier]) {
  const profile = await readProfile(profilePath);
  const exchanges = [];
  const config = await configureFapi2(profile, exchanges);
  const DPoP = client.getDPoPHandle(config, await keyPair(profile.dpop_key));
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(callbackUrl),
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
    undefined,
    { DPoP },
  );
  const claims = tokens.claims();
  if (claims === undefined) throw new Error('no ID token in the token response');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
  if (!tokens.refresh_token) throw new Error('no refresh_token in the token response');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  return {
    claims,
    userinfo,
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    refreshed: {
      token_type: refreshed.token_type,
      has_access_token: typeof refreshed.access_token === 'string' && refreshed.access_token !== tokens.access_token,
      access_token: refreshed.access_token,
    },
    exchanges,
  };
}

async function register([issuer, initialAccessToken, redirectUri, scope]) {
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'openid-client (Node.js), registered dynamically',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    },
    undefined,
    { initialAccessToken, execute: [client.allowInsecureRequests] },
  );
  const registered = config.clientMetadata();
  return {
    client_id: registered.client_id,
    client_secret: registered.client_secret,
    scope: registered.scope,
  };
}

function describe(error) {
  const parts = [`${error?.name ?? 'Error'}${error?.code ? ` [${error.code}]` : ''}: ${error?.message ?? error}`];
  if (error?.error) parts.push(`error=${error.error}`);
  if (error?.error_description) parts.push(`error_description=${error.error_description}`);
  if (error?.status) parts.push(`status=${error.status}`);
  let cause = error?.cause;
  for (let depth = 0; cause && depth < 3; depth += 1, cause = cause.cause) {
    parts.push(`cause: ${cause.name ?? 'Error'}${cause.code ? ` [${cause.code}]` : ''}: ${cause.message ?? JSON.stringify(cause)}`);
  }
  return parts.join('\n');
}

const commands = {
  start: [start, 5],
  finish: [finish, 7],
  register: [register, 4],
  'fapi2-start': [fapi2Start, 3],
  'fapi2-finish': [fapi2Finish, 5],
};
const [command, ...args] = process.argv.slice(2);
const entry = commands[command];
if (entry === undefined || args.length !== entry[1]) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${JSON.stringify(await entry[0](args))}\n`);
} catch (error) {
  process.stderr.write(`${describe(error)}\n`);
  process.exit(1);
}
