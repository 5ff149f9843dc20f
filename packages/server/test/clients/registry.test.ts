import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { ClientRegistry, validateRegistration } from '../../src/clients/index.ts';
import { ApiError } from '../../src/platform/errors.ts';
import { sampleRegistration, samplePublicKey as publicKey } from './fixtures.ts';

async function codes(input: unknown, options: { development?: boolean } = {}): Promise<string[]> {
  const result = await validateRegistration(input, options);
  return result.ok ? [] : result.errors.map((e) => `${e.field}:${e.code}`);
}

/** The one key of a registration with `key` as its JWKS. */
const withKeys = (...keys: Record<string, unknown>[]) => sampleRegistration({ jwks: { keys } });

function rsaJwk(bits: number): Record<string, unknown> {
  const { publicKey: key } = generateKeyPairSync('rsa', { modulusLength: bits });
  return key.export({ format: 'jwk' }) as Record<string, unknown>;
}

describe('relying-party registration validation', () => {
  it('accepts a minimal private_key_jwt client and defaults to pairwise subjects per redirect host', async () => {
    const result = await validateRegistration(sampleRegistration());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.subject_type).toBe('pairwise');
    expect(result.value.sector_identifier).toBe('my.soliq.uz');
    expect(result.value.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(result.value.id_token_signed_response_alg).toBe('ES256');
  });

  it('rejects redirect URIs that could be tampered with or leak codes', async () => {
    expect(await codes(sampleRegistration({ redirect_uris: ['http://my.soliq.uz/cb'] }))).toEqual(['redirect_uris.0:url_not_https']);
    expect(await codes(sampleRegistration({ redirect_uris: ['https://my.soliq.uz/cb#x'] }))).toEqual(['redirect_uris.0:url_fragment']);
    expect(await codes(sampleRegistration({ redirect_uris: ['https://*.soliq.uz/cb'] }))).toContain('redirect_uris.0:url_wildcard');
    expect(await codes(sampleRegistration({ redirect_uris: [] }))).toEqual(['redirect_uris:list_invalid']);
    expect((await validateRegistration(sampleRegistration({ redirect_uris: ['http://localhost:8080/cb'] }))).ok).toBe(true);
  });

  it('refuses shared secrets, private keys and clients without keys', async () => {
    expect(await codes(sampleRegistration({ client_secret: 'x' }))).toContain('client_secret:secret_not_supported');
    expect(await codes(withKeys({ ...publicKey, d: 'secret' }))).toEqual(['jwks.keys.0:jwk_private']);
    expect(await codes(sampleRegistration({ jwks: undefined }))).toEqual(['jwks:jwks_required']);
    expect(await codes(sampleRegistration({ jwks_uri: 'https://my.soliq.uz/jwks' }))).toEqual(['jwks:jwks_both']);
    expect(await codes(sampleRegistration({ token_endpoint_auth_method: 'client_secret_basic' }))).toEqual([
      'token_endpoint_auth_method:auth_method_invalid',
    ]);
    // mutual TLS is not offered (no TLS listener or trusted proxy): refused, with what else it would need
    expect(await codes(sampleRegistration({ token_endpoint_auth_method: 'tls_client_auth', jwks: undefined }))).toEqual([
      'token_endpoint_auth_method:auth_method_not_offered',
      'tls_client_auth_subject_dn:subject_dn_required',
    ]);
  });

  it('checks scopes, acr values, sectors, contacts and CIBA settings', async () => {
    expect(await codes(sampleRegistration({ scopes: ['pinfl'] }))).toEqual(['scopes:openid_required']);
    expect(await codes(sampleRegistration({ scopes: ['openid', 'email'] }))).toEqual(['scopes:value_not_allowed']);
    expect(await codes(sampleRegistration({ acr_values: ['urn:tasdiq:acr:ultra'] }))).toEqual(['acr_values:value_not_allowed']);
    expect(await codes(sampleRegistration({ redirect_uris: ['https://a.soliq.uz/cb', 'https://b.soliq.uz/cb'] }))).toEqual([
      'sector_identifier:sector_required',
    ]);
    expect(await codes(sampleRegistration({ contacts: ['not-an-email'] }))).toEqual(['contacts:contacts_invalid']);
    expect(await codes(sampleRegistration({ ciba_delivery_mode: 'push', subject_type: 'public' }))).toEqual(['ciba_delivery_mode:ciba_mode_invalid']);
    expect(await codes(sampleRegistration({ ciba_delivery_mode: 'ping', subject_type: 'public' }))).toEqual(['ciba_notification_endpoint:ciba_endpoint_required']);
    expect(
      await codes(sampleRegistration({ ciba_delivery_mode: 'ping', subject_type: 'public', ciba_notification_endpoint: 'http://localhost:9/ciba' })),
    ).toEqual(['ciba_notification_endpoint:url_not_https']);
    expect(await codes(sampleRegistration({ ciba_delivery_mode: 'poll' }))).toEqual(['jwks_uri:ciba_pairwise_needs_jwks_uri']);
    expect((await validateRegistration(sampleRegistration({ ciba_delivery_mode: 'poll', subject_type: 'public' }))).ok).toBe(true);
    expect(await codes(sampleRegistration({ surprise: 1 }))).toEqual(['surprise:unknown_field']);
    expect(await codes('nope')).toEqual([':not_object']);
  });

  it('refuses names a phone would show misleadingly (control and text-direction characters)', async () => {
    const name = { 'uz-Latn': 'Soliq\u202Eportali', 'uz-Cyrl': 'Солиқ портали', ru: 'Налоговый\u0007 портал', en: 'Tax portal' };
    expect(await codes(sampleRegistration({ name }))).toEqual(['name.uz-Latn:name_invalid', 'name.ru:name_invalid']);
  });

  it('wants https for the endpoints Tasdiq calls itself, except to localhost in development', async () => {
    const keyed = { jwks: undefined, jwks_uri: 'http://localhost:4000/jwks' };
    expect(await codes(sampleRegistration(keyed))).toEqual(['jwks_uri:url_not_https']);
    expect(await codes(sampleRegistration(keyed), { development: true })).toEqual([]);
    expect(await codes(sampleRegistration({ jwks: undefined, jwks_uri: 'http://rp.example.uz/jwks' }), { development: true })).toEqual(['jwks_uri:url_not_https']);
    expect(await codes(sampleRegistration({ backchannel_logout_uri: 'http://127.0.0.1:4000/logout' }))).toEqual(['backchannel_logout_uri:url_not_https']);
    expect(await codes(sampleRegistration({ backchannel_logout_uri: 'http://127.0.0.1:4000/logout' }), { development: true })).toEqual([]);
    expect(await codes(sampleRegistration({ jwks: undefined, jwks_uri: 'https://my.soliq.uz/jwks' }))).toEqual([]);
  });

  it('reads null as "not set" for optional fields, so a document read back validates, and still wants keys', async () => {
    const nulls = { tls_client_auth_subject_dn: null, backchannel_logout_uri: null, ciba_delivery_mode: null, ciba_notification_endpoint: null };
    expect(await codes(sampleRegistration({ ...nulls, jwks_uri: null }))).toEqual([]);
    expect(await codes(sampleRegistration({ ...nulls, jwks: null, jwks_uri: null }))).toEqual(['jwks:jwks_required']);
    expect(await codes(sampleRegistration({ scopes: null }))).toEqual(['scopes:value_not_allowed']);
  });

  it('takes ES256 or EdDSA for ID tokens, nothing else', async () => {
    const eddsa = await validateRegistration(sampleRegistration({ id_token_signed_response_alg: 'EdDSA' }));
    expect(eddsa.ok && eddsa.value.id_token_signed_response_alg).toBe('EdDSA');
    expect(await codes(sampleRegistration({ id_token_signed_response_alg: 'RS256' }))).toEqual(['id_token_signed_response_alg:id_token_alg_invalid']);
    expect(await codes(sampleRegistration({ id_token_signed_response_alg: 'none' }))).toEqual(['id_token_signed_response_alg:id_token_alg_invalid']);
  });
});

describe('registered public keys', () => {
  it('accepts RSA of 2048 bits or more (PS256), EC P-256 and Ed25519, the algorithms FAPI 2.0 allows', async () => {
    const rsa = rsaJwk(2048);
    const ed = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
    const keys = [
      { ...rsa, kid: 'rsa', alg: 'PS256', use: 'sig' },
      { ...publicKey, kid: 'p256', alg: 'ES256', key_ops: ['verify'] },
      { ...ed, kid: 'ed', alg: 'EdDSA' },
    ];
    expect(await codes(withKeys(...keys))).toEqual([]);
    // P-384 (ES384) is outside FAPI 2.0, and the provider would refuse its signatures
    const p384 = await exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey);
    expect(await codes(withKeys({ ...p384, kid: 'p384' }))).toEqual(['jwks.keys.0:jwk_crv_unsupported']);
  });

  it('refuses short RSA keys, small exponents and RS256', async () => {
    // The audit's example: a 24-bit modulus imports in WebCrypto, so the size is checked after import.
    const tiny = { kty: 'RSA', n: Buffer.from([0xd5, 0x3b, 0x8f]).toString('base64url'), e: 'AQAB' };
    expect(await codes(withKeys(tiny))).toEqual(['jwks.keys.0:jwk_rsa_size']);
    expect(await codes(withKeys(rsaJwk(1024)))).toEqual(['jwks.keys.0:jwk_rsa_size']);
    expect(await codes(withKeys({ ...rsaJwk(2048), e: 'Aw' }))).toEqual(['jwks.keys.0:jwk_rsa_exponent']);
    expect(await codes(withKeys({ ...rsaJwk(2048), alg: 'RS256' }))).toEqual(['jwks.keys.0.alg:jwk_alg_mismatch']);
    expect(await codes(withKeys({ kty: 'RSA', e: 'AQAB' }))).toEqual(['jwks.keys.0:jwk_invalid']);
  });

  it('refuses EC keys without a curve, on other curves, or off their curve', async () => {
    const { crv: _crv, ...noCurve } = publicKey;
    expect(await codes(withKeys(noCurve))).toEqual(['jwks.keys.0:jwk_crv_missing']);
    expect(await codes(withKeys({ ...publicKey, crv: 'secp256k1' }))).toEqual(['jwks.keys.0:jwk_crv_unsupported']);
    expect(await codes(withKeys({ ...publicKey, crv: 'P-521' }))).toEqual(['jwks.keys.0:jwk_crv_unsupported']);
    // One bit changed in y: no point of P-256, so the import refuses it.
    expect(await codes(withKeys({ ...publicKey, y: 'x_FFzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }))).toEqual(['jwks.keys.0:jwk_invalid']);
    // The same y spelt with padding bits set is not the canonical encoding.
    expect(await codes(withKeys({ ...publicKey, y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1' }))).toEqual(['jwks.keys.0:jwk_invalid']);
    expect(await codes(withKeys({ ...publicKey, x: publicKey.x.slice(0, 20) }))).toEqual(['jwks.keys.0:jwk_invalid']);
    expect(await codes(withKeys({ ...publicKey, alg: 'ES384' }))).toEqual(['jwks.keys.0.alg:jwk_alg_mismatch']);
    expect(await codes(withKeys({ ...publicKey, alg: 'RSA-OAEP' }))).toEqual(['jwks.keys.0.alg:jwk_alg_mismatch']);
  });

  it('refuses OKP keys other than Ed25519, and malformed ones', async () => {
    const x25519 = await exportJWK((await generateKeyPair('ECDH-ES', { crv: 'X25519', extractable: true })).publicKey);
    expect(await codes(withKeys(x25519))).toEqual(['jwks.keys.0:jwk_crv_unsupported']);
    expect(await codes(withKeys({ kty: 'OKP', x: x25519.x }))).toEqual(['jwks.keys.0:jwk_crv_missing']);
    expect(await codes(withKeys({ kty: 'OKP', crv: 'Ed25519', x: 'abc' }))).toEqual(['jwks.keys.0:jwk_invalid']);
  });

  it('refuses private and symmetric key material by naming the members, never echoing them', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPrivate = privateKey.export({ format: 'jwk' }) as Record<string, string>;
    const result = await validateRegistration(withKeys(rsaPrivate));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([{ field: 'jwks.keys.0', code: 'jwk_private', message: expect.stringContaining('(d, p, q, dp, dq, qi)') }]);
    expect(JSON.stringify(result.errors)).not.toContain(rsaPrivate.d!.slice(0, 16));
    expect(await codes(withKeys({ kty: 'oct', k: 'c2VjcmV0' }))).toEqual(['jwks.keys.0:jwk_private']);
    expect(await codes(withKeys({ kty: 'oct' }))).toEqual(['jwks.keys.0:jwk_kty_unsupported']);
  });

  it('wants signature keys only, with key ids that tell several keys apart', async () => {
    expect(await codes(withKeys({ ...publicKey, use: 'enc' }))).toEqual(['jwks.keys.0.use:jwk_use_invalid']);
    expect(await codes(withKeys({ ...publicKey, key_ops: ['sign'] }))).toEqual(['jwks.keys.0.key_ops:jwk_key_ops_invalid']);
    const other = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    expect(await codes(withKeys({ ...publicKey, kid: 'a' }, { ...other, kid: 'a' }))).toEqual(['jwks.keys.1.kid:jwk_kid_duplicate']);
    expect(await codes(withKeys(publicKey, other))).toEqual(['jwks:jwk_kid_required']);
    expect(await codes(withKeys({ ...publicKey, kid: 'old' }, { ...other, kid: 'new' }))).toEqual([]);
    expect(await codes(withKeys({ ...publicKey, kid: 'bad\u202Ekid' }))).toEqual(['jwks.keys.0.kid:jwk_kid_invalid']);
    expect(await codes(sampleRegistration({ jwks: { keys: [publicKey], extra: 1 } }))).toEqual(['jwks:jwks_invalid']);
    expect(await codes(sampleRegistration({ jwks: { keys: Array.from({ length: 11 }, () => publicKey) } }))).toEqual(['jwks:jwks_invalid']);
  });
});

describe.each(testDialects())('relying-party registry on %s', (dialect) => {
  let database: TestDatabase;
  let registry: ClientRegistry;
  let clock = 1_764_000_000_000;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    registry = new ClientRegistry(database.db, () => clock);
  });
  afterAll(() => database.dispose());

  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as ApiError);

  it('registers, lists, refuses duplicates and disables', async () => {
    const client = await registry.register(sampleRegistration());
    expect(client).toMatchObject({ clientId: 'soliq-portal', status: 'active', fapi: false, redirectUris: ['https://my.soliq.uz/callback'], version: 1 });
    const duplicate = await refusal(registry.register(sampleRegistration()));
    expect(duplicate).toBeInstanceOf(ApiError);
    expect(duplicate!.code).toBe('client_exists');
    expect((await refusal(registry.register(sampleRegistration({ client_id: 'X' }))))!.code).toBe('client_invalid');
    expect((await registry.list()).map((c) => c.clientId)).toEqual(['soliq-portal']);
    await registry.setStatus('soliq-portal', 'disabled');
    expect(await registry.findActive('soliq-portal')).toBeUndefined();
    expect((await registry.list({ status: 'active' })).length).toBe(0);
    expect((await refusal(registry.setStatus('nobody', 'disabled')))!.code).toBe('client_not_found');
    await registry.setStatus('soliq-portal', 'active');
  });

  it('stores the ID token algorithm a client asked for', async () => {
    const client = await registry.register(sampleRegistration({ client_id: 'eddsa-rp', id_token_signed_response_alg: 'EdDSA' }));
    expect(client.idTokenSignedResponseAlg).toBe('EdDSA');
    expect((await registry.find('soliq-portal'))!.idTokenSignedResponseAlg).toBe('ES256');
  });

  it('updates a client over the version it was read at, rotating its keys, and audits the changed field names only', async () => {
    const before = (await registry.find('soliq-portal'))!;
    const next = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    clock += 60_000;
    const updated = await registry.update(
      'soliq-portal',
      sampleRegistration({ client_id: undefined, jwks: { keys: [{ ...next, kid: 'k2' }] }, redirect_uris: ['https://my.soliq.uz/callback', 'https://my.soliq.uz/cb2'] }),
      before.version,
    );
    expect(updated).toMatchObject({
      clientId: 'soliq-portal',
      version: before.version + 1,
      status: 'active',
      createdAt: before.createdAt,
      updatedAt: clock,
      sectorIdentifier: 'my.soliq.uz',
      redirectUris: ['https://my.soliq.uz/callback', 'https://my.soliq.uz/cb2'],
      jwks: { keys: [{ ...next, kid: 'k2' }] },
    });
    const audit = await database.db.selectFrom('audit_events').selectAll().where('action', '=', 'clients.updated').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: 'system', actor_id: 'cli' });
    expect(JSON.parse(audit[0]!.details as string)).toEqual({ clientId: 'soliq-portal', changed: ['redirect_uris', 'jwks'], version: before.version + 1 });
    expect(String(audit[0]!.details)).not.toContain(String(next.x));

    // The same document again changes nothing: no new version, no audit event.
    const same = await registry.update('soliq-portal', sampleRegistration({ jwks: { keys: [{ ...next, kid: 'k2' }] }, redirect_uris: updated.redirectUris }), updated.version);
    expect(same.version).toBe(updated.version);
    expect(await database.db.selectFrom('audit_events').select('id').where('action', '=', 'clients.updated').execute()).toHaveLength(1);
  });

  it('refuses an update over a stale version, and of a client that does not exist', async () => {
    const current = (await registry.find('soliq-portal'))!;
    const stale = await refusal(registry.update('soliq-portal', sampleRegistration({ contacts: ['other@soliq.uz'] }), current.version - 1));
    expect(stale).toMatchObject({ code: 'client_version_conflict', status: 412, headers: { etag: `"${current.version}"` } });
    expect((await registry.find('soliq-portal'))!.contacts).toEqual(current.contacts);
    expect((await refusal(registry.update('nobody-here', sampleRegistration(), 1)))!.code).toBe('client_not_found');
  });

  it('lets only one of two concurrent updates over the same version win', async () => {
    const current = (await registry.find('soliq-portal'))!;
    const results = await Promise.allSettled([
      registry.update('soliq-portal', sampleRegistration({ jwks: current.jwks, redirect_uris: current.redirectUris, contacts: ['a@soliq.uz'] }), current.version),
      registry.update('soliq-portal', sampleRegistration({ jwks: current.jwks, redirect_uris: current.redirectUris, contacts: ['b@soliq.uz'] }), current.version),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((failed.reason as ApiError).code).toBe('client_version_conflict');
    const after = (await registry.find('soliq-portal'))!;
    expect(after.version).toBe(current.version + 1);
    const winner = results.find((r) => r.status === 'fulfilled');
    expect(winner?.status === 'fulfilled' && winner.value.contacts).toEqual(after.contacts);
  });

  it('validates an update exactly like a registration and keeps client_id, sector and subject type', async () => {
    const current = (await registry.find('soliq-portal'))!;
    const base = { jwks: current.jwks, redirect_uris: current.redirectUris };
    const invalid = await refusal(registry.update('soliq-portal', sampleRegistration({ ...base, redirect_uris: ['http://evil.example/cb'], jwks: { keys: [{ ...publicKey, d: 'x' }] } }), current.version));
    expect(invalid!.code).toBe('client_invalid');
    expect(invalid!.errors!.map((e) => `${e.field}:${e.code}`)).toEqual(['redirect_uris.0:url_not_https', 'jwks.keys.0:jwk_private']);

    const moved = await refusal(registry.update('soliq-portal', sampleRegistration({ ...base, sector_identifier: 'soliq.uz', subject_type: 'public', client_id: 'renamed' }), current.version));
    expect(moved!.errors!.map((e) => `${e.field}:${e.code}`)).toEqual([
      'client_id:client_id_immutable',
      'sector_identifier:sector_immutable',
      'subject_type:subject_type_immutable',
    ]);
    expect(moved!.errors!.find((e) => e.code === 'sector_immutable')!.message).toMatch(/pairwise subjects are derived from it/);
    // Another redirect host is fine: the stored sector is kept rather than derived again.
    const otherHost = await registry.update('soliq-portal', sampleRegistration({ ...base, redirect_uris: [...current.redirectUris, 'https://m.soliq.uz/cb'] }), current.version);
    expect(otherHost).toMatchObject({ sectorIdentifier: 'my.soliq.uz', version: current.version + 1 });
    expect((await registry.find('soliq-portal'))!.redirectUris).toContain('https://m.soliq.uz/cb');
  });

  it('counts enabling and disabling as changes to the version', async () => {
    const current = (await registry.find('soliq-portal'))!;
    const disabled = await registry.setStatus('soliq-portal', 'disabled');
    expect(disabled.version).toBe(current.version + 1);
    const stale = await refusal(registry.update('soliq-portal', sampleRegistration({ jwks: current.jwks }), current.version));
    expect(stale!.code).toBe('client_version_conflict');
    // A disabled client can still be edited (e.g. to rotate a leaked key before enabling it again).
    const edited = await registry.update('soliq-portal', sampleRegistration({ jwks: current.jwks, redirect_uris: current.redirectUris, contacts: ['c@soliq.uz'] }), disabled.version);
    expect(edited).toMatchObject({ status: 'disabled', contacts: ['c@soliq.uz'] });
  });
});
