import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDecipheriv } from 'node:crypto';
import { DbKeyStore, KeyStoreError, loadMasterKey } from '../../src/platform/keys/index.ts';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.ts';

describe('master key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasdiq-mk-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates <dataDir>/master.key with mode 0600 once and reads it back', () => {
    const first = loadMasterKey({ env: {}, dataDir: dir });
    expect(first).toHaveLength(32);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(loadMasterKey({ env: {}, dataDir: dir }).equals(first)).toBe(true);
  });

  it('prefers TASDIQ_MASTER_KEY and rejects one of the wrong length', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ env: { TASDIQ_MASTER_KEY: key.toString('base64') }, dataDir: dir }).equals(key)).toBe(true);
    expect(() => loadMasterKey({ env: { TASDIQ_MASTER_KEY: randomBytes(16).toString('base64') }, dataDir: dir })).toThrow(/32 bytes/);
    writeFileSync(join(dir, 'master.key'), 'c2hvcnQ=');
    expect(() => loadMasterKey({ env: {}, dataDir: dir })).toThrow(KeyStoreError);
  });
});

describe.each(testDialects())('database key store on %s', (dialect) => {
  let database: TestDatabase;
  const masterKey = randomBytes(32);
  beforeEach(async () => {
    database = await createTestDatabase(dialect);
  });
  afterEach(async () => database.dispose());

  it('signs with ES256 and EdDSA keys whose public JWKs verify the signatures', async () => {
    const store = new DbKeyStore(database.db, masterKey);
    const es = await store.getOrCreateSigningKey('ca', 'ES256');
    const ed = await store.getOrCreateSigningKey('tokens', 'EdDSA');
    expect(es).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'ca.v1' });
    expect(ed).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: 'tokens.v1' });
    const data = Buffer.from('hello');
    const s1 = await store.sign('ca', data);
    expect(s1.signature).toHaveLength(64);
    expect(verify('sha256', data, { key: createPublicKey({ key: { ...es }, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, s1.signature)).toBe(true);
    const s2 = await store.sign('tokens', data);
    expect(verify(null, data, createPublicKey({ key: { ...ed }, format: 'jwk' }), s2.signature)).toBe(true);
    expect(verify(null, Buffer.from('other'), createPublicKey({ key: { ...ed }, format: 'jwk' }), s2.signature)).toBe(false);
    // a second call (another instance) gets the same key, not a new one
    expect((await new DbKeyStore(database.db, masterKey).getOrCreateSigningKey('ca', 'ES256')).x).toBe(es.x);
    await expect(store.getOrCreateSigningKey('ca', 'EdDSA')).rejects.toThrow(/ES256/);
  });

  it('stores private keys encrypted: the stored bytes do not contain the key', async () => {
    const store = new DbKeyStore(database.db, masterKey);
    await store.getOrCreateSigningKey('ca', 'ES256');
    const row = await database.db.selectFrom('service_keys').selectAll().where('kid', '=', 'ca.v1').executeTakeFirstOrThrow();
    const sealed = Buffer.from(row.private_key);
    const decipher = createDecipheriv('aes-256-gcm', masterKey, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from('ca.v1'));
    decipher.setAuthTag(sealed.subarray(12, 28));
    const pkcs8 = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    const jwk = (await import('node:crypto')).createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    const d = Buffer.from(jwk.d!, 'base64url');
    expect(d).toHaveLength(32);
    expect(sealed.includes(d)).toBe(false);
    expect(sealed.includes(pkcs8)).toBe(false);
    expect(row.public_jwk).not.toContain('"d"');
  });

  it('fails clearly with the wrong master key', async () => {
    await new DbKeyStore(database.db, masterKey).getOrCreateSigningKey('ca', 'ES256');
    const wrong = new DbKeyStore(database.db, randomBytes(32));
    await expect(wrong.sign('ca', Buffer.from('x'))).rejects.toThrow(/master key .* is not the one it was stored with/);
  });

  it('two instances creating the same key at once end up signing with one key', async () => {
    const stores = [new DbKeyStore(database.db, masterKey), new DbKeyStore(database.db, masterKey)];
    const [a, b] = await Promise.all(stores.map((store) => store.getOrCreateSigningKey('device-ca', 'ES256')));
    expect(a).toEqual(b);
    const rows = await database.db.selectFrom('service_keys').select('kid').where('name', '=', 'device-ca').execute();
    expect(rows).toEqual([{ kid: 'device-ca.v1' }]);
  });

  it("picks up another instance's rotation once its cached key is a minute old", async () => {
    let clock = 1_000_000;
    const a = new DbKeyStore(database.db, masterKey, () => clock);
    const b = new DbKeyStore(database.db, masterKey, () => clock);
    await a.getOrCreateSigningKey('tokens', 'ES256');
    expect((await a.sign('tokens', Buffer.from('x'))).kid).toBe('tokens.v1');
    await b.rotate('tokens');
    expect((await a.sign('tokens', Buffer.from('x'))).kid).toBe('tokens.v1');
    clock += 61_000;
    expect((await a.sign('tokens', Buffer.from('x'))).kid).toBe('tokens.v2');
  });

  it('rotates: the new key signs, old public keys stay listed until retired', async () => {
    const store = new DbKeyStore(database.db, masterKey);
    const v1 = await store.getOrCreateSigningKey('tokens', 'ES256');
    const v2 = await store.rotate('tokens');
    expect(v2.kid).toBe('tokens.v2');
    expect(v2.x).not.toBe(v1.x);
    expect((await store.sign('tokens', Buffer.from('x'))).kid).toBe('tokens.v2');
    expect((await store.listPublicJwks('tokens')).map((k) => k.kid)).toEqual(['tokens.v2', 'tokens.v1']);
    await expect(store.retire('tokens', 'tokens.v2')).rejects.toThrow(/current key/);
    await store.retire('tokens', 'tokens.v1');
    expect((await store.listPublicJwks('tokens')).map((k) => k.kid)).toEqual(['tokens.v2']);
    await expect(store.sign('missing', Buffer.from('x'))).rejects.toThrow(KeyStoreError);
    await expect(store.sign('Bad Name', Buffer.from('x'))).rejects.toThrow(/bad key name/);
  });
});
