// An OpenID Connect provider that behaves as GOV.UK One Login does towards a service, for tests:
// npm's oidc-provider, with the client registered for private_key_jwt (RS256) and PKCE, ID tokens
// signed ES256 carrying `vot`, `vtr` accepted, `email` and `email_verified` from userinfo, subjects
// shaped like One Login's (urn:fdc:gov.uk:2022:...), and RP-initiated logout. Its login page (the
// package's own) accepts any login: an email address typed there is the person's address.
//
//   node tests/browser/one-login.mjs [--vot Cl.Cm] [--unverified-email]
//
// Prints "ready PORT" when it listens on 127.0.0.1:PORT (so the service's site file can name it as
// the issuer before the service starts), then reads the client from a line of standard input,
// {"client_id": ..., "jwk": {...}, "redirect": URL, "post_logout": URL}, and prints "registered".
// Also importable: startOneLogin(options), then register(client).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

export async function startOneLogin({ vot = 'Cl.Cm', verified = true, port = 0 } = {}) {
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  signing.kid = 'one-login-test-es256';
  signing.alg = 'ES256';
  signing.use = 'sig';
  // One Login's subject is pairwise and opaque; the login page's account id is what was typed.
  const subjectOf = (login) => `urn:fdc:gov.uk:2022:${createHash('sha256').update(login).digest('base64url')}`;
  // The issuer is the address, so listen first; the provider is built when the client is known.
  let handler = (req, res) => { res.statusCode = 503; res.end('no client registered yet'); };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const register = ({ clientJwk, redirect, postLogout, clientId = 'steward-test' }) => {
    const provider = new Provider(issuer, {
      clients: [{
        client_id: clientId,
        redirect_uris: [redirect],
        post_logout_redirect_uris: [postLogout],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        id_token_signed_response_alg: 'ES256',
        jwks: { keys: [clientJwk] },
      }],
      jwks: { keys: [signing] },
      extraParams: ['vtr'],
      scopes: ['openid', 'email', 'phone'],
      claims: { openid: ['sub', 'vot', 'vtm'], email: ['email', 'email_verified'] },
      pkce: { required: () => false },
      findAccount: async (ctx, login) => ({
        accountId: login,
        claims: async () => ({ sub: subjectOf(login), vot, vtm: `${issuer}/trustmark`,
                               email: login.includes('@') ? login : `${login}@example.test`, email_verified: verified }),
      }),
      // One Login asks no consent of its own: every grant the client asks for is given.
      loadExistingGrant: async (ctx) => {
        const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        if (id) return ctx.oidc.provider.Grant.find(id);
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                    accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid email phone');
        await grant.save();
        return grant;
      },
      features: {
        devInteractions: { enabled: true },
        rpInitiatedLogout: { enabled: true },
      },
      ttl: { AccessToken: 180, IdToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
    });
    provider.on('server_error', (ctx, err) => console.error('one-login: server error', err));
    handler = provider.callback();
  };
  return {
    issuer,
    register,
    port: server.address().port,
    close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      vot: { type: 'string', default: 'Cl.Cm' },
      'unverified-email': { type: 'boolean', default: false },
    },
  });
  const op = await startOneLogin({ vot: values.vot, verified: !values['unverified-email'] });
  process.stdout.write(`ready ${op.port}\n`);
  process.on('SIGTERM', async () => { await op.close(); process.exit(0); });
  for await (const line of createInterface({ input: process.stdin })) {
    const c = JSON.parse(line);
    op.register({ clientJwk: c.jwk, redirect: c.redirect, postLogout: c.post_logout, clientId: c.client_id });
    process.stdout.write('registered\n');
  }
}
