import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, activationMessage, generateDeviceKey, keyAttestationChallenge, signES256 } from '../../../client/src/index.ts';
import { authModule, createDeviceAuthenticator } from '../../src/auth/index.ts';
import { readAttestationRoots } from '../../src/devices/attestation.ts';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { testDialects } from '../support/databases.ts';
import { TEST_APP_ID, testAppAttest, type AppAttestVariant } from '../support/app-attest.ts';
import { enrollCitizen, listeningApp, type EnrolledCitizen, type ListeningApp } from './fixtures.ts';
import { rejection } from '../support/rejection.ts';

const client = { clientId: 'portal', name: { 'uz-Latn': 'Portal', 'uz-Cyrl': 'Портал', ru: 'Портал', en: 'Portal' } };

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
}

describe('TASDIQ_APP_ATTEST_* settings', () => {
  it("name Apple's root, the iOS apps and Apple's environment; each half alone, a bad app id or environment is a problem", async () => {
    const { rootsFile } = await testAppAttest();
    expect(loadConfig({})).toMatchObject({ appAttestRoots: undefined, appAttestAppIds: [], appAttestEnvironment: 'production' });
    expect(loadConfig({ TASDIQ_APP_ATTEST_ROOTS: rootsFile, TASDIQ_APP_ATTEST_APP_IDS: `${TEST_APP_ID}, A1B2C3D4E5.uz.gov.tasdiq.beta`, TASDIQ_APP_ATTEST_ENVIRONMENT: 'development' })).toMatchObject({
      appAttestRoots: rootsFile,
      appAttestAppIds: [TEST_APP_ID, 'A1B2C3D4E5.uz.gov.tasdiq.beta'],
      appAttestEnvironment: 'development',
    });
    expect(problems({ TASDIQ_APP_ATTEST_ROOTS: rootsFile })).toEqual(['TASDIQ_APP_ATTEST_ROOTS: is set, but TASDIQ_APP_ATTEST_APP_IDS names no app: say which iOS apps may activate']);
    expect(problems({ TASDIQ_APP_ATTEST_APP_IDS: TEST_APP_ID })).toEqual(["TASDIQ_APP_ATTEST_APP_IDS: is set, but TASDIQ_APP_ATTEST_ROOTS does not name Apple's App Attestation Root CA"]);
    expect(problems({ TASDIQ_APP_ATTEST_ROOTS: rootsFile, TASDIQ_APP_ATTEST_APP_IDS: 'uz.gov.tasdiq' })).toEqual([
      'TASDIQ_APP_ATTEST_APP_IDS: "uz.gov.tasdiq" is not an app id: expected the team id and the bundle id, e.g. A1B2C3D4E5.uz.gov.tasdiq',
    ]);
    expect(problems({ TASDIQ_APP_ATTEST_ENVIRONMENT: 'sandbox' })).toEqual(['TASDIQ_APP_ATTEST_ENVIRONMENT: expected production or development, got "sandbox"']);
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-apple-roots-'));
    writeFileSync(join(dir, 'none.pem'), 'nothing\n');
    expect(problems({ TASDIQ_APP_ATTEST_ROOTS: join(dir, 'none.pem'), TASDIQ_APP_ATTEST_APP_IDS: TEST_APP_ID })).toEqual([
      expect.stringMatching(/^TASDIQ_APP_ATTEST_ROOTS: .*none\.pem holds no PEM certificate \(expected Apple's App Attestation Root CA/),
    ]);
    writeFileSync(join(dir, 'broken.pem'), `${readFileSync(rootsFile, 'utf8')}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    expect(() => readAttestationRoots(join(dir, 'broken.pem'), 'TASDIQ_APP_ATTEST_ROOTS')).toThrow(/^TASDIQ_APP_ATTEST_ROOTS: certificate 2 in .*broken\.pem cannot be read/);
  });
});

describe.each(testDialects())('iOS App Attest on %s', (dialect) => {
  let app: ListeningApp;
  beforeAll(async () => {
    const { rootsFile } = await testAppAttest();
    app = await listeningApp(dialect, { config: { appAttestRoots: rootsFile, appAttestAppIds: TEST_APP_ID } });
  });
  afterAll(async () => app.close());

  async function expectNothingWritten(citizen: EnrolledCitizen) {
    expect(await app.context.db.selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
    expect(await app.context.db.selectFrom('audit_events').select('id').where('action', '=', 'device.activated').where('subject_citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
  }

  it('a verified attestation records a hardware-backed iPhone, which signs in at high with amr hwk', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { keyAttestation: (await testAppAttest()).attestor() });
    expect(await device.me()).toMatchObject({ keyStorage: 'hardware' });
    const audit = await app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'device.activated').where('actor_id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details!)).toMatchObject({ keyStorage: 'hardware' });
    const authenticator = createDeviceAuthenticator(authModule.service(app.context), app.context.db);
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: ['urn:tasdiq:acr:high'], client, bindingMessage: 'Kirish' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    await device.confirm((await device.pending())!);
    expect(await authenticator.poll(started.attemptId)).toMatchObject({ status: 'approved', acr: 'urn:tasdiq:acr:high', amr: ['user', 'mfa', 'hwk'] });
  });

  const refusals: [AppAttestVariant, RegExp][] = [
    ['wrong_challenge', /^attestation x5c\[0\]: the nonce is not SHA-256\(authData \|\| this activation's challenge\)/],
    ['wrong_app', /^authData rpIdHash is not SHA-256 of an app id in TASDIQ_APP_ATTEST_APP_IDS$/],
    ['development', /^authData aaguid is not App Attest's production one \(TASDIQ_APP_ATTEST_ENVIRONMENT\)$/],
    ['used_key', /^authData counter is 1, not 0: the key was used before$/],
    ['other_key_id', /^attestation x5c\[0\] certifies another key than keyId$/],
    ['other_credential_id', /^authData credentialId is not keyId$/],
    ['untrusted_root', /^attestation x5c: the chain does not end at a trusted attestation root \(TASDIQ_APP_ATTEST_ROOTS\)$/],
    ['expired_credential', /^attestation x5c\[0\] has expired/],
    ['no_nonce', /^attestation x5c\[0\] has no nonce extension \(1\.2\.840\.113635\.100\.8\.2\)$/],
    ['wrong_format', /^attestationObject fmt is "packed", not "apple-appattest"$/],
  ];

  it.each(refusals)('refuses %s with device_attestation_invalid, writes nothing, and leaves the code usable', async (variant, detail) => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const error = await rejection(DeviceClient.activate(app.url, code, { keyAttestation: (await testAppAttest()).attestor(variant), locale: 'uz-Cyrl' }));
    expect(error).toMatchObject({ status: 400, code: 'device_attestation_invalid', title: 'Қурилма калитларининг аттестацияси тасдиқланмади' });
    expect(error.detail).toMatch(detail);
    await expectNothingWritten(citizen);
    const device = await DeviceClient.activate(app.url, code, { keyAttestation: (await testAppAttest()).attestor() });
    expect(await device.me()).toMatchObject({ keyStorage: 'hardware' });
  });

  it('an attestation made for one activation does not verify for another (the challenge binds code and keys)', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    let first: Awaited<ReturnType<Awaited<ReturnType<typeof testAppAttest>>['attest']>> | undefined;
    await DeviceClient.activate(app.url, await citizen.activationCode(), {
      keyAttestation: async (keys) => (first = await (await testAppAttest()).attest(keys.challenge)),
    });
    const other = await enrollCitizen(app.context.db, app.url, app.clock);
    const error = await rejection(DeviceClient.activate(app.url, await other.activationCode(), { keyAttestation: async () => first! }));
    expect(error.detail).toMatch(/the nonce is not SHA-256\(authData \|\| this activation's challenge\)/);
    await expectNothingWritten(other);
  });

  it('bounds the attestation in the request schema: either format with its own members only', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const post = async (mutate: (a: Record<string, unknown>) => unknown) => {
      const auth = await generateDeviceKey();
      const sign = await generateDeviceKey();
      const message = activationMessage(code, auth.spki, sign.spki);
      const attestation = await (await testAppAttest()).attest(await keyAttestationChallenge(code, auth.spki, sign.spki));
      const body = { activationCode: code, authKey: auth.spki, signKey: sign.spki, authProof: await signES256(auth, message), signProof: await signES256(sign, message), keyAttestation: mutate({ ...attestation }) };
      const response = await fetch(`${app.url}/api/v1/device/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, code: ((await response.json()) as { code: string }).code };
    };
    const malformed: [string, (a: Record<string, unknown>) => unknown][] = [
      ['a key id of the wrong length', (a) => ({ ...a, keyId: 'AAAA' })],
      ['a key id in base64url', (a) => ({ ...a, keyId: String(a.keyId).replaceAll('+', '-').replaceAll('/', '_') + '-' })],
      ['no attestation object', (a) => ({ format: a.format, keyId: a.keyId })],
      ['an attestation object that is not base64', (a) => ({ ...a, attestationObject: '!'.repeat(200) })],
      ['an oversized attestation object', (a) => ({ ...a, attestationObject: 'A'.repeat(24_004) })],
      ['an Android member', (a) => ({ ...a, authChain: ['A'.repeat(200), 'A'.repeat(200)] })],
      ['an Android format with Apple members', (a) => ({ ...a, format: 'android-key' })],
    ];
    for (const [what, mutate] of malformed) expect({ what, ...(await post(mutate)) }).toEqual({ what, status: 400, code: 'validation_failed' });
    const garbage = await post((a) => ({ ...a, attestationObject: Buffer.from('not cbor at all, only text that goes on and on '.repeat(4)).toString('base64') }));
    expect(garbage).toEqual({ status: 400, code: 'device_attestation_invalid' });
    await expectNothingWritten(citizen);
    expect((await post((a) => a)).status).toBe(201);
  });
});

describe.each(testDialects())('App Attest settings on %s', (dialect) => {
  let unconfigured: ListeningApp;
  let development: ListeningApp;
  beforeAll(async () => {
    const { rootsFile } = await testAppAttest();
    unconfigured = await listeningApp(dialect);
    development = await listeningApp(dialect, { config: { appAttestRoots: rootsFile, appAttestAppIds: TEST_APP_ID, appAttestEnvironment: 'development' } });
  });
  afterAll(async () => {
    await unconfigured.close();
    await development.close();
  });

  it('a service without them verifies no App Attest attestation and says why; the code then activates a software device', async () => {
    const citizen = await enrollCitizen(unconfigured.context.db, unconfigured.url, unconfigured.clock);
    const code = await citizen.activationCode();
    const error = await rejection(DeviceClient.activate(unconfigured.url, code, { keyAttestation: (await testAppAttest()).attestor() }));
    expect(error.detail).toBe('App Attest is not configured on this service (TASDIQ_APP_ATTEST_ROOTS and TASDIQ_APP_ATTEST_APP_IDS), so no App Attest attestation can be verified; activate without keyAttestation');
    expect(await (await DeviceClient.activate(unconfigured.url, code)).me()).toMatchObject({ keyStorage: 'software' });
  });

  it("a staging service set to Apple's development environment takes development builds, and refuses production ones", async () => {
    const citizen = await enrollCitizen(development.context.db, development.url, development.clock);
    const code = await citizen.activationCode();
    const error = await rejection(DeviceClient.activate(development.url, code, { keyAttestation: (await testAppAttest()).attestor() }));
    expect(error.detail).toBe("authData aaguid is not App Attest's development one (TASDIQ_APP_ATTEST_ENVIRONMENT)");
    const device = await DeviceClient.activate(development.url, code, { keyAttestation: (await testAppAttest()).attestor('development') });
    expect(await device.me()).toMatchObject({ keyStorage: 'hardware' });
  });
});
