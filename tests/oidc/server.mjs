// A real OpenID Connect provider on loopback for Keybridge's SSO tests (not shipped).
//
// Usage: node server.mjs   (configured by environment variables)
//   OIDC_CLIENT_ID       the one native public client (default keybridge-test)
//   OIDC_REDIRECTS       extra redirect URIs, comma-separated (the bridge's /sso/oidc/redirect/)
//   OIDC_FAULT           none | wrong-issuer | no-s256 | bad-signature | wrong-audience
//
// Binds 127.0.0.1 on an ephemeral port and prints one line `listening http://127.0.0.1:PORT`
// when ready. Sign-in is non-interactive through the provider's development interactions:
// the login form accepts any login, which becomes the account id and its email address.
//
// The faults imitate an identity provider set up wrongly, so that each of Keybridge's checks
// can be seen failing against a real provider:
//   wrong-issuer     the provider calls itself http://localhost:PORT
//   no-s256          discovery does not offer the S256 code challenge method
//   bad-signature    ID tokens leave the token endpoint with a damaged signature
//   wrong-audience   ID tokens are re-signed (with the real key) for another audience

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID || 'keybridge-test';
const fault = process.env.OIDC_FAULT || 'none';
const extraRedirects = (process.env.OIDC_REDIRECTS || '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function resign(idToken, change) {
  const [h, p] = idToken.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  change(payload);
  const data = `${h}.${b64url(JSON.stringify(payload))}`;
  const signature = crypto.sign('sha256', Buffer.from(data), privateKey);
  return `${data}.${b64url(signature)}`;
}

function damageSignature(idToken) {
  const [h, p, s] = idToken.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[sig.length - 1] ^= 0x55;
  return `${h}.${p}.${b64url(sig)}`;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const host = fault === 'wrong-issuer' ? 'localhost' : '127.0.0.1';
  const issuer = `http://${host}:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // Native clients may use any port on a loopback redirect (RFC 8252 §7.3).
        redirect_uris: ['http://127.0.0.1/keybridge/oidc/callback', ...extraRedirects],
      },
    ],
    jwks: { keys: [signingJwk] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: id, email_verified: true };
        },
      };
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  });

  provider.use(async (ctx, next) => {
    await next();
    if (fault === 'no-s256' && ctx.path === '/.well-known/openid-configuration' && ctx.body) {
      ctx.body = { ...ctx.body, code_challenge_methods_supported: ['plain'] };
    }
    if (ctx.path === '/token' && ctx.body && typeof ctx.body.id_token === 'string') {
      if (fault === 'bad-signature') {
        ctx.body = { ...ctx.body, id_token: damageSignature(ctx.body.id_token) };
      } else if (fault === 'wrong-audience') {
        ctx.body = {
          ...ctx.body,
          id_token: resign(ctx.body.id_token, (c) => { c.aud = 'some-other-application'; }),
        };
      }
    }
  });

  const callback = provider.callback();
  server.on('request', callback);
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);
});

// The tests stop this process by its pid; a closed stdin also ends it, so an orphan never
// outlives the test that started it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
