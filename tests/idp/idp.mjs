// Local OpenID provider for leakscan's verification tests. Loopback only.
// Env: PORT (required), IDP_CONFIG (JSON: {"tenant": "...", "clients": [...]})
// where a client is {"client_id", "client_secret"} (client_secret_post) or
// {"client_id", "cert_pem_file"} (private_key_jwt with that certificate's key).
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
if (!port) {
  console.error('idp: PORT is required');
  process.exit(2);
}
const cfg = JSON.parse(process.env.IDP_CONFIG || '{}');
const tenant = cfg.tenant || '11111111-2222-3333-4444-555555555555';

const clients = (cfg.clients || []).map((c) => {
  const base = {
    client_id: c.client_id,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  };
  if (c.cert_pem_file) {
    const jwk = createPublicKey(readFileSync(c.cert_pem_file)).export({ format: 'jwk' });
    return { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } };
  }
  return { ...base, token_endpoint_auth_method: 'client_secret_post', client_secret: c.client_secret };
});

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients,
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
  enabledJWA: { clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256'] },
  cookies: { keys: ['leakscan-test-cookie-key'] },
  // Entra-shaped token path, one fixed tenant per instance.
  routes: { token: `/${tenant}/oauth2/v2.0/token` },
});

// Server-side reason for failures, for test logs (never a credential).
provider.on('grant.error', (ctx, err) => {
  console.error(`idp: grant.error ${err.error}: ${err.error_detail || err.message}`);
});
provider.on('grant.success', () => {
  console.error('idp: grant.success');
});

provider.listen(port, '127.0.0.1');
console.error(`idp: listening on 127.0.0.1:${port}`);
