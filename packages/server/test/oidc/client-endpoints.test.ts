import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../support/databases.ts';
import { ClientRegistry } from '../../src/clients/index.ts';
import { clientAssertion, registerRp, startService, type Rp, type Service } from './journey.ts';

/**
 * The endpoints relying parties' servers call: limited per client (agencies' back ends share
 * addresses), and discovery advertising only what works here.
 */
describe.each(testDialects())('back-channel endpoints and discovery, on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    // A tiny per-address limit and a larger per-client one, to tell them apart.
    service = await startService(dialect, { rateLimitPerMinute: 4, oidcClientRateLimitPerMinute: 9 });
  });
  afterAll(async () => service.close());

  async function introspect(rp: Rp | undefined, clientId?: string): Promise<number> {
    const body = new URLSearchParams({ token: 'not-a-token' });
    if (rp) {
      body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      body.set('client_assertion', await clientAssertion(rp, service.baseUrl));
    }
    if (clientId) body.set('client_id', clientId);
    const response = await fetch(`${service.baseUrl}/oidc/introspect`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    if (response.status === 429) expect(((await response.json()) as { code: string }).code).toBe('rate_limited');
    return response.status;
  }

  it('counts token-endpoint-style requests per client at an address, not per address: two agencies behind one address each get their quota', async () => {
    const a = await registerRp(service, 'agency-a', ['openid'], ['urn:tasdiq:acr:substantial']);
    const b = await registerRp(service, 'agency-b', ['openid'], ['urn:tasdiq:acr:substantial']);
    // Both authenticated, both past the address limit of 4, neither past its own 9.
    for (let i = 0; i < 9; i++) {
      expect(await introspect(a)).toBe(200);
      expect(await introspect(b)).toBe(200);
    }
    expect(await introspect(a)).toBe(429);
    expect(await introspect(b)).toBe(429);
    // A client id that names no relying party shares the address's bucket (4).
    const strangers = [];
    for (let i = 0; i < 5; i++) strangers.push(await introspect(undefined, `nobody-${i}`));
    expect(strangers.slice(0, 4).every((s) => s === 401)).toBe(true);
    expect(strangers[4]).toBe(429);
  });

  it('discovery advertises private_key_jwt only and no CIBA user_code; a tls_client_auth registration cannot authenticate', async () => {
    const discovery = (await (await fetch(`${service.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
    expect(discovery.backchannel_user_code_parameter_supported).toBe(false);
    expect(discovery.tls_client_certificate_bound_access_tokens).toBeUndefined();
    expect(discovery.mtls_endpoint_aliases).toBeUndefined();
    expect(discovery.id_token_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);

    const registry = new ClientRegistry(service.app.context.db);
    const mtls = {
      client_id: 'mtls-agency',
      name: { 'uz-Latn': 'Agentlik', 'uz-Cyrl': 'Агентлик', ru: 'Агентство', en: 'Agency' },
      redirect_uris: ['https://mtls.example.uz/cb'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=mtls.example.uz,O=Agency,C=UZ',
      scopes: ['openid'],
      acr_values: ['urn:tasdiq:acr:substantial'],
      contacts: ['it@mtls.example.uz'],
    };
    // The registry refuses a method the provider does not offer...
    await expect(registry.register(mtls)).rejects.toMatchObject({ errors: [expect.objectContaining({ field: 'token_endpoint_auth_method', code: 'auth_method_not_offered' })] });
    // ...and a row that has one anyway (written before this rule) cannot authenticate.
    await registry.register({ ...mtls, token_endpoint_auth_method: 'private_key_jwt', tls_client_auth_subject_dn: undefined, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] } });
    await service.app.context.db.updateTable('relying_parties').set({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: mtls.tls_client_auth_subject_dn, jwks: null }).where('client_id', '=', 'mtls-agency').execute();
    const response = await fetch(`${service.baseUrl}/oidc/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'mtls-agency', response_type: 'code', scope: 'openid', redirect_uri: 'https://mtls.example.uz/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
  });
});
