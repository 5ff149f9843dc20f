import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { testDialects } from '../support/databases.ts';
import { citizenWithApp, registerRp, signInWithApp, startService, type Service } from './journey.ts';

/** ID tokens in the algorithm the client registered: EdDSA as well as ES256, each from a published key. */
describe.each(testDialects())('ID token signing algorithm per client, on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    service = await startService(dialect);
  });
  afterAll(async () => service.close());

  it('signs with EdDSA for a client registered for it and ES256 for the others, both verifiable with the JWKS, also after a rotation', async () => {
    const eddsa = await registerRp(service, 'ed-client', ['openid'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'], { id_token_signed_response_alg: 'EdDSA' });
    const es256 = await registerRp(service, 'es-client', ['openid'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const citizen = await citizenWithApp(service);
    const jwks = createRemoteJWKSet(new URL(`${service.baseUrl}/oidc/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 });
    const published = async () => ((await (await fetch(`${service.baseUrl}/oidc/jwks`)).json()) as { keys: Array<{ kid: string; alg: string; crv: string }> }).keys;

    for (let round = 0; round < 2; round++) {
      const ed = (await signInWithApp(service, eddsa, citizen)).tokens.id_token!;
      const es = (await signInWithApp(service, es256, citizen)).tokens.id_token!;
      expect(decodeProtectedHeader(ed).alg).toBe('EdDSA');
      expect(decodeProtectedHeader(es).alg).toBe('ES256');
      const edKey = (await published()).find((k) => k.kid === decodeProtectedHeader(ed).kid);
      expect(edKey).toMatchObject({ alg: 'EdDSA', crv: 'Ed25519' });
      await jwtVerify(ed, jwks, { issuer: service.baseUrl, audience: eddsa.clientId, algorithms: ['EdDSA'] });
      await jwtVerify(es, jwks, { issuer: service.baseUrl, audience: es256.clientId, algorithms: ['ES256'] });
      await service.oidc.rotateKeys();
    }
  });
});
