// A real OpenID provider (the npm package oidc-provider) for the single sign-on journeys.
//
//   node tests/oidc/provider.mjs
//
// It listens on a random port of 127.0.0.1 and prints that port alone on the first line of
// stdout; the issuer is http://127.0.0.1:PORT. The journey starts ikrar with that issuer and then
// writes ikrar's redirect URI as one line on stdin: only then does the provider take requests
// (both sides pick their ports at random, so one of them has to learn the other's afterwards).
//
// One confidential client: id `ikrar`, secret `rahasia-uji`, the code flow with PKCE.
// There is no login form. The interaction page signs in whoever its query names, and the journey
// (a cookie-keeping HTTP client) adds that query to the redirect it follows:
//   /interaction/UID?nip=198503302010012004&email=a@b.go.id&name=Andi
// `rusak=audiens` or `rusak=kedaluwarsa` in that query makes the ID token issued to this account
// wrong: meant for another client, or expired half an hour ago. Either token is re-signed with
// the provider's own key, so only the claim in question is wrong.
//
// Packages come from IKRAR_TEST_NODE_MODULES (default target/npm/node_modules), where
// scripts/test installs tests/browser/package.json.

import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

// stdout carries the port and nothing else: the journey stops reading it after that line, and a
// later write there (oidc-provider's notices go to console.log) would end the process with EPIPE,
// which ikrar sees as a connection reset at the token endpoint.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.IKRAR_TEST_NODE_MODULES
  || path.join(here, '..', '..', 'target', 'npm', 'node_modules');
// An ES module finds no package through NODE_PATH, so the package is imported by its file.
const { default: Provider } = await import(
  pathToFileURL(path.join(modules, 'oidc-provider', 'lib', 'index.js')).href
);

const CLIENT_ID = 'ikrar';
const CLIENT_SECRET = 'rahasia-uji';
const KID = 'uji-1';

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };

/** accountId -> { nip, email, name, fault } of the accounts signed in so far. */
const accounts = new Map();

const b64url = (value) => Buffer.from(value).toString('base64url');

/** The same token with `change` applied to its claims, signed again with the provider's key. */
function resigned(idToken, change) {
  const [header, payload] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  change(claims);
  const input = `${header}.${b64url(JSON.stringify(claims))}`;
  const signature = crypto.sign('sha256', Buffer.from(input), privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

const faults = {
  audiens: (claims) => { claims.aud = 'aplikasi-lain'; },
  kedaluwarsa: (claims) => {
    const now = Math.floor(Date.now() / 1000);
    claims.iat = now - 3600;
    claims.auth_time = now - 3600;
    claims.exp = now - 1800;
  },
};

const server = http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
process.stdout.write(`${port}\n`);

const lines = readline.createInterface({ input: process.stdin });
const redirectUri = await new Promise((resolve) => { lines.once('line', (l) => resolve(l.trim())); });
// The journey ends the provider by closing stdin (or by killing it).
lines.on('close', () => process.exit(0));

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingJwk] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'nip'],
  },
  // The NIP travels in the signed ID token, not only from the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id, email: account.email, email_verified: true, name: account.name };
        if (account.nip) claims.nip = account.nip;
        return claims;
      },
    };
  },
  // A first-party client: what it asks for is granted without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'nip']);
    await grant.save();
    return grant;
  },
});

// The token endpoint's answer is an object until koa sends it: the place to spoil an ID token.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route !== 'token' || typeof ctx.body?.id_token !== 'string') return;
  const [, payload] = ctx.body.id_token.split('.');
  const { sub } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const fault = faults[accounts.get(sub)?.fault];
  if (fault) ctx.body = { ...ctx.body, id_token: resigned(ctx.body.id_token, fault) };
});

/**
 * The interaction page, outside koa: interactionDetails and interactionFinished take node's own
 * request and response, and interactionFinished ends the response itself (303 to the resume URL).
 */
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const query = new URL(req.url, issuer).searchParams;
  if (details.prompt.name === 'login') {
    const accountId = crypto.randomUUID();
    accounts.set(accountId, {
      nip: query.get('nip') || undefined,
      email: query.get('email') || 'pegawai@contoh.go.id',
      name: query.get('name') || 'Pegawai Uji',
      fault: query.get('rusak') || undefined,
    });
    await provider.interactionFinished(req, res, { login: { accountId } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  // Consent is granted by loadExistingGrant; should the provider ask anyway, grant it here.
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (new URL(req.url, issuer).pathname.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      process.stderr.write(`interaction failed: ${error.stack || error}\n`);
      if (!res.headersSent) {
        res.statusCode = 400;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      }
      res.end(`interaction failed: ${error.message}\n`);
    });
    return;
  }
  callback(req, res);
});
