import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';
import { ClientRegistry, validateRegistration } from '../../src/clients/index.ts';
import { ApiError } from '../../src/platform/errors.ts';
import { sampleRegistration, samplePublicKey as publicKey } from './fixtures.ts';

function codes(input: unknown): string[] {
  const result = validateRegistration(input);
  return result.ok ? [] : result.errors.map((e) => `${e.field}:${e.code}`);
}

describe('relying-party registration validation', () => {
  it('accepts a minimal private_key_jwt client and defaults to pairwise subjects per redirect host', () => {
    const result = validateRegistration(sampleRegistration());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.subject_type).toBe('pairwise');
    expect(result.value.sector_identifier).toBe('my.soliq.uz');
    expect(result.value.token_endpoint_auth_method).toBe('private_key_jwt');
  });

  it('rejects redirect URIs that could be tampered with or leak codes', () => {
    expect(codes(sampleRegistration({ redirect_uris: ['http://my.soliq.uz/cb'] }))).toEqual(['redirect_uris.0:url_not_https']);
    expect(codes(sampleRegistration({ redirect_uris: ['https://my.soliq.uz/cb#x'] }))).toEqual(['redirect_uris.0:url_fragment']);
    expect(codes(sampleRegistration({ redirect_uris: ['https://*.soliq.uz/cb'] }))).toContain('redirect_uris.0:url_wildcard');
    expect(codes(sampleRegistration({ redirect_uris: [] }))).toEqual(['redirect_uris:list_invalid']);
    expect(validateRegistration(sampleRegistration({ redirect_uris: ['http://localhost:8080/cb'] })).ok).toBe(true);
  });

  it('refuses shared secrets, private keys and clients without keys', () => {
    expect(codes(sampleRegistration({ client_secret: 'x' }))).toContain('client_secret:secret_not_supported');
    expect(codes(sampleRegistration({ jwks: { keys: [{ ...publicKey, d: 'secret' }] } }))).toEqual(['jwks.keys.0:jwk_private']);
    expect(codes(sampleRegistration({ jwks: undefined }))).toEqual(['jwks:jwks_required']);
    expect(codes(sampleRegistration({ jwks_uri: 'https://my.soliq.uz/jwks' }))).toEqual(['jwks:jwks_both']);
    expect(codes(sampleRegistration({ token_endpoint_auth_method: 'client_secret_basic' }))).toEqual([
      'token_endpoint_auth_method:auth_method_invalid',
    ]);
    expect(codes(sampleRegistration({ token_endpoint_auth_method: 'tls_client_auth', jwks: undefined }))).toEqual([
      'tls_client_auth_subject_dn:subject_dn_required',
    ]);
  });

  it('checks scopes, acr values, sectors, contacts and CIBA settings', () => {
    expect(codes(sampleRegistration({ scopes: ['pinfl'] }))).toEqual(['scopes:openid_required']);
    expect(codes(sampleRegistration({ scopes: ['openid', 'email'] }))).toEqual(['scopes:value_not_allowed']);
    expect(codes(sampleRegistration({ acr_values: ['urn:tasdiq:acr:ultra'] }))).toEqual(['acr_values:value_not_allowed']);
    expect(codes(sampleRegistration({ redirect_uris: ['https://a.soliq.uz/cb', 'https://b.soliq.uz/cb'] }))).toEqual([
      'sector_identifier:sector_required',
    ]);
    expect(codes(sampleRegistration({ contacts: ['not-an-email'] }))).toEqual(['contacts:contacts_invalid']);
    expect(codes(sampleRegistration({ ciba_delivery_mode: 'push', subject_type: 'public' }))).toEqual(['ciba_delivery_mode:ciba_mode_invalid']);
    expect(codes(sampleRegistration({ ciba_delivery_mode: 'ping', subject_type: 'public' }))).toEqual(['ciba_notification_endpoint:ciba_endpoint_required']);
    expect(
      codes(sampleRegistration({ ciba_delivery_mode: 'ping', subject_type: 'public', ciba_notification_endpoint: 'http://localhost:9/ciba' })),
    ).toEqual(['ciba_notification_endpoint:url_not_https']);
    expect(codes(sampleRegistration({ ciba_delivery_mode: 'poll' }))).toEqual(['jwks_uri:ciba_pairwise_needs_jwks_uri']);
    expect(validateRegistration(sampleRegistration({ ciba_delivery_mode: 'poll', subject_type: 'public' })).ok).toBe(true);
    expect(codes(sampleRegistration({ surprise: 1 }))).toEqual(['surprise:unknown_field']);
    expect(codes('nope')).toEqual([':not_object']);
  });
});

describe.each(testDialects())('relying-party registry on %s', (dialect) => {
  let database: TestDatabase;
  let registry: ClientRegistry;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    registry = new ClientRegistry(database.db, () => 1_764_000_000_000);
  });
  afterAll(() => database.dispose());

  it('registers, lists, refuses duplicates and disables', async () => {
    const client = await registry.register(sampleRegistration());
    expect(client).toMatchObject({ clientId: 'soliq-portal', status: 'active', fapi: false, redirectUris: ['https://my.soliq.uz/callback'] });
    const duplicate = await registry.register(sampleRegistration()).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ApiError);
    expect((duplicate as ApiError).code).toBe('client_exists');
    const invalid = await registry.register(sampleRegistration({ client_id: 'X' })).catch((e: unknown) => e);
    expect((invalid as ApiError).code).toBe('client_invalid');
    expect((await registry.list()).map((c) => c.clientId)).toEqual(['soliq-portal']);
    await registry.setStatus('soliq-portal', 'disabled');
    expect(await registry.findActive('soliq-portal')).toBeUndefined();
    expect((await registry.list({ status: 'active' })).length).toBe(0);
    const missing = await registry.setStatus('nobody', 'disabled').catch((e: unknown) => e);
    expect((missing as ApiError).code).toBe('client_not_found');
  });
});
