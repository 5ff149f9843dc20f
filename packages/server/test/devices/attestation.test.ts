import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, activationMessage, generateDeviceKey, keyAttestationChallenge as clientChallenge, signES256, type KeyAttestation } from '../../../client/src/index.ts';
import { authModule, createDeviceAuthenticator } from '../../src/auth/index.ts';
import { keyAttestationChallenge } from '../../src/devices/canonical.ts';
import { readAttestationRoots, readAttestationStatus } from '../../src/devices/attestation.ts';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import type { Authenticator } from '../../src/oidc/authenticator.ts';
import { testDialects } from '../support/databases.ts';
import { hardwareKeyStore, testKeyStore, type AttestationVariant } from '../support/key-attestation.ts';
import { activateHardwareDevice, enrollCitizen, listeningApp, type EnrolledCitizen, type ListeningApp } from './fixtures.ts';
import { rejection } from '../support/rejection.ts';

const client = { clientId: 'portal', name: { 'uz-Latn': 'Portal', 'uz-Cyrl': 'Портал', ru: 'Портал', en: 'Portal' } };

describe('the key attestation challenge', () => {
  it('is built the same by the server and the client, as docs/device-protocol.md specifies', async () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../../../docs/device-protocol.md'), 'utf8');
    const example = JSON.parse(/```json attestation-challenge\n([\s\S]*?)\n```/.exec(doc)![1]!) as { activationCode: string; authKey: string; signKey: string; challengeHex: string };
    const { activationCode, authKey, signKey, challengeHex } = example;
    const independent = createHash('sha256').update(`TASDIQ-KEY-ATTESTATION-V1\n${activationCode}\n${authKey}\n${signKey}`, 'utf8').digest('hex');
    expect(independent).toBe(challengeHex);
    expect(keyAttestationChallenge(activationCode, authKey, signKey).toString('hex')).toBe(challengeHex);
    expect(Buffer.from(await clientChallenge(activationCode, authKey, signKey)).toString('hex')).toBe(challengeHex);
    // Each input counts: another code or the keys swapped give another challenge.
    expect(keyAttestationChallenge(`${activationCode}X`, authKey, signKey).toString('hex')).not.toBe(challengeHex);
    expect(keyAttestationChallenge(activationCode, signKey, authKey).toString('hex')).not.toBe(challengeHex);
  });
});

describe('TASDIQ_KEY_ATTESTATION_ROOTS', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('names a readable PEM file of certificates; unset, no roots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-roots-'));
    expect(loadConfig({}).keyAttestationRoots).toBeUndefined();
    const { rootsFile } = await testKeyStore();
    expect(loadConfig({ TASDIQ_KEY_ATTESTATION_ROOTS: rootsFile }).keyAttestationRoots).toBe(rootsFile);
    expect(problems({ TASDIQ_KEY_ATTESTATION_ROOTS: join(dir, 'missing.pem') })).toEqual([expect.stringMatching(/^TASDIQ_KEY_ATTESTATION_ROOTS: cannot read .*missing\.pem: ENOENT/)]);
    writeFileSync(join(dir, 'empty.pem'), 'no certificates here\n');
    expect(problems({ TASDIQ_KEY_ATTESTATION_ROOTS: join(dir, 'empty.pem') })).toEqual([expect.stringMatching(/^TASDIQ_KEY_ATTESTATION_ROOTS: .*empty\.pem holds no PEM certificate/)]);
    // A block that is no certificate stops the service at start, naming the setting.
    writeFileSync(join(dir, 'broken.pem'), `${readFileSync(rootsFile, 'utf8')}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    expect(() => readAttestationRoots(join(dir, 'broken.pem'))).toThrow(/^TASDIQ_KEY_ATTESTATION_ROOTS: certificate 3 in .*broken\.pem cannot be read/);
    expect(readAttestationRoots(rootsFile)).toHaveLength(2);
  });
});

describe.each(testDialects())('device key attestation on %s', (dialect) => {
  let app: ListeningApp;
  let authenticator: Authenticator;
  beforeAll(async () => {
    app = await listeningApp(dialect);
    authenticator = createDeviceAuthenticator(authModule.service(app.context), app.context.db);
  });
  afterAll(async () => app.close());

  /** Signs in through the OpenID provider's seam with the phone; the poll result. */
  async function signIn(citizen: EnrolledCitizen, device: DeviceClient, acr: string) {
    const started = await authenticator.start({ loginHint: citizen.pinfl, acrValues: [acr], client, bindingMessage: 'Kirish' });
    if (started.status !== 'pending') throw new Error(`not pending: ${JSON.stringify(started)}`);
    await device.confirm((await device.pending())!);
    const session = await app.context.db.selectFrom('auth_sessions').select(['result', 'assurance']).where('id', '=', started.attemptId).executeTakeFirstOrThrow();
    return { session, result: await authenticator.poll(started.attemptId) };
  }

  /** Nothing of an activation was written for the citizen. */
  async function expectNothingWritten(citizen: EnrolledCitizen) {
    expect(await app.context.db.selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
    expect(await app.context.db.selectFrom('audit_events').select('id').where('action', '=', 'device.activated').where('subject_citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
    expect(await app.context.db.selectFrom('notify_outbox').select('id').where('kind', '=', 'device.activated').where('recipient', '=', citizen.phone).execute()).toEqual([]);
  }

  it('a verified attestation records a hardware-backed device: sign-ins end at high, amr hwk', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await activateHardwareDevice(app.url, await citizen.activationCode());
    const row = await app.context.db.selectFrom('devices').select(['key_storage', 'assurance']).where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(row).toEqual({ key_storage: 'hardware', assurance: 'in_person' });
    expect(await device.me()).toMatchObject({ keyStorage: 'hardware' });
    const audit = await app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'device.activated').where('actor_id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details!)).toMatchObject({ keyStorage: 'hardware' });

    const { session, result } = await signIn(citizen, device, 'urn:tasdiq:acr:high');
    expect(session).toEqual({ result: 'OK', assurance: 'high' });
    expect(result).toMatchObject({ status: 'approved', acr: 'urn:tasdiq:acr:high', amr: ['user', 'mfa', 'hwk'] });
  });

  it('a software device enrolled in person is substantial with amr swk, and a client asking for high is told it is insufficient', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    expect((await app.context.db.selectFrom('devices').select(['key_storage', 'assurance']).where('id', '=', device.deviceId).executeTakeFirstOrThrow())).toEqual({ key_storage: 'software', assurance: 'in_person' });
    expect(await device.me()).toMatchObject({ keyStorage: 'software' });

    const substantial = await signIn(citizen, device, 'urn:tasdiq:acr:substantial');
    expect(substantial.session).toEqual({ result: 'OK', assurance: 'substantial' });
    expect(substantial.result).toMatchObject({ status: 'approved', acr: 'urn:tasdiq:acr:substantial', amr: ['user', 'mfa', 'swk'] });
    const high = await signIn(citizen, device, 'urn:tasdiq:acr:high');
    expect(high.result).toEqual({ status: 'insufficient', acr: 'urn:tasdiq:acr:substantial' });
  });

  it('a hardware device enrolled without a visit is substantial, and its amr still says hwk', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    await app.context.db.updateTable('enrollments').set({ assurance: 'self_service' }).where('citizen_id', '=', citizen.citizenId).execute();
    const device = await activateHardwareDevice(app.url, await citizen.activationCode());
    const { session, result } = await signIn(citizen, device, 'urn:tasdiq:acr:substantial');
    expect(session).toEqual({ result: 'OK', assurance: 'substantial' });
    expect(result).toMatchObject({ status: 'approved', acr: 'urn:tasdiq:acr:substantial', amr: ['user', 'mfa', 'hwk'] });
  });

  it("tolerates the leaf's notAfter (Android leaves carry odd ones) and a chain that stops below the root", async () => {
    const store = await testKeyStore();
    const expiredLeaf = await enrollCitizen(app.context.db, app.url, app.clock);
    const a = await DeviceClient.activate(app.url, await expiredLeaf.activationCode(), { keyAttestation: store.attestor('leaf_expired') });
    expect(await a.me()).toMatchObject({ keyStorage: 'hardware' });
    const withoutRoot = await enrollCitizen(app.context.db, app.url, app.clock);
    const b = await DeviceClient.activate(app.url, await withoutRoot.activationCode(), {
      keyAttestation: async (keys) => {
        const full = await store.attest(keys);
        return { ...full, authChain: full.authChain.slice(0, -1), signChain: full.signChain.slice(0, -1) };
      },
    });
    expect(await b.me()).toMatchObject({ keyStorage: 'hardware' });
  });

  const refusals: [AttestationVariant, 'auth' | 'sign' | undefined, RegExp][] = [
    ['software_level', undefined, /^authChain: attestationSecurityLevel is Software, not TrustedEnvironment or StrongBox$/],
    ['software_level', 'sign', /^signChain: attestationSecurityLevel is Software/],
    ['wrong_challenge', undefined, /^authChain: attestationChallenge is not this activation's challenge/],
    ['wrong_key', undefined, /^authChain\[0\] certifies another key than the one registered as authKey$/],
    ['wrong_key', 'sign', /^signChain\[0\] certifies another key than the one registered as signKey$/],
    ['untrusted_root', undefined, /^authChain: the chain does not end at a trusted attestation root \(TASDIQ_KEY_ATTESTATION_ROOTS\)$/],
    ['broken_signature', undefined, /^authChain\[0\] is not signed by authChain\[1\]$/],
    ['missing_extension', undefined, /^authChain\[0\] has no KeyDescription extension \(1\.3\.6\.1\.4\.1\.11129\.2\.1\.17\)$/],
    ['origin_imported', undefined, /^authChain: hardwareEnforced origin is 2, not GENERATED \(0\)/],
    ['origin_imported', 'sign', /^signChain: hardwareEnforced origin is 2/],
    ['no_sign_purpose', undefined, /^authChain: hardwareEnforced purpose does not include SIGN \(2\)$/],
    ['wrong_curve', undefined, /^authChain: hardwareEnforced ecCurve is not P_256 \(1\)$/],
    ['expired_intermediate', undefined, /^authChain\[1\] has expired/],
    ['extension_in_intermediate', undefined, /^authChain\[1\] carries a KeyDescription extension: only the leaf may$/],
    ['bootloader_unlocked', undefined, /^authChain: rootOfTrust says the bootloader is unlocked \(deviceLocked false\)$/],
    ['boot_self_signed', 'sign', /^signChain: rootOfTrust verifiedBootState is SelfSigned, not Verified$/],
    ['no_root_of_trust', undefined, /^authChain: hardwareEnforced has no rootOfTrust$/],
    ['no_user_auth', undefined, /^authChain: hardwareEnforced has noAuthRequired: the key signs without the citizen's PIN or biometrics$/],
    ['no_user_auth', 'sign', /^signChain: hardwareEnforced has noAuthRequired/],
    ['auth_timeout', undefined, /^authChain: hardwareEnforced authTimeout is 300 s: the key must ask for the citizen at every use$/],
  ];

  it.each(refusals)('refuses %s (%s chain) with device_attestation_invalid, writes nothing, and leaves the code usable', async (variant, only, detail) => {
    const store = await testKeyStore();
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const error = await rejection(DeviceClient.activate(app.url, code, { keyAttestation: store.attestor(variant, only), locale: 'ru' }));
    expect(error).toMatchObject({ status: 400, code: 'device_attestation_invalid', title: 'Аттестация ключей устройства не прошла проверку' });
    expect(error.detail).toMatch(detail);
    await expectNothingWritten(citizen);
    // The same code activates afterwards: with a good attestation, hardware.
    const device = await DeviceClient.activate(app.url, code, { keyAttestation: store.attestor() });
    expect(await device.me()).toMatchObject({ keyStorage: 'hardware' });
  });

  /** A well-formed activation body (both proofs good) with the given attestation, posted as is. */
  async function postActivation(code: string, attestation: (keys: { authKey: string; signKey: string }) => Promise<unknown>, lang = 'en') {
    const auth = await generateDeviceKey();
    const sign = await generateDeviceKey();
    const message = activationMessage(code, auth.spki, sign.spki);
    const body = {
      activationCode: code,
      authKey: auth.spki,
      signKey: sign.spki,
      authProof: await signES256(auth, message),
      signProof: await signES256(sign, message),
      keyAttestation: await attestation({ authKey: auth.spki, signKey: sign.spki }),
    };
    const response = await fetch(`${app.url}/api/v1/device/activate?lang=${lang}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, problem: (await response.json()) as { code: string; title: string; detail?: string } };
  }

  it('bounds the attestation in the request schema, and refuses a chain entry that is no certificate', async () => {
    const store = await testKeyStore();
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const good = (keys: { authKey: string; signKey: string }) => store.attest({ ...keys, challenge: keyAttestationChallenge(code, keys.authKey, keys.signKey) });
    const malformed: [string, (a: Extract<KeyAttestation, { format: 'android-key' }>) => unknown][] = [
      ['an unknown format', (a) => ({ ...a, format: 'tpm' })],
      ['a chain of one certificate', (a) => ({ ...a, authChain: a.authChain.slice(0, 1) })],
      ['a chain of nine', (a) => ({ ...a, signChain: Array.from({ length: 9 }, () => a.signChain[0]) })],
      ['base64url instead of base64', (a) => ({ ...a, authChain: a.authChain.map((c) => c.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '') + '-') })],
      ['an oversized certificate', (a) => ({ ...a, authChain: ['A'.repeat(8196), ...a.authChain.slice(1)] })],
      ['an extra member', (a) => ({ ...a, nonce: 'x' })],
      ['no sign chain', (a) => ({ format: a.format, authChain: a.authChain })],
    ];
    for (const [what, mutate] of malformed) {
      const { status, problem } = await postActivation(code, async (keys) => mutate(await good(keys)));
      expect({ what, status, code: problem.code }).toEqual({ what, status: 400, code: 'validation_failed' });
    }
    const garbage = await postActivation(code, async (keys) => ({ ...(await good(keys)), signChain: ['AAAA'.repeat(40), ...(await good(keys)).signChain.slice(1)] }), 'uz-Cyrl');
    expect(garbage).toEqual({ status: 400, problem: expect.objectContaining({ code: 'device_attestation_invalid', title: 'Қурилма калитларининг аттестацияси тасдиқланмади', detail: 'signChain[0] is not a DER X.509 certificate' }) });
    await expectNothingWritten(citizen);
    // Still usable, and a well-formed request with a good attestation goes through.
    const { status } = await postActivation(code, good);
    expect(status).toBe(201);
    expect(await app.context.db.selectFrom('devices').select('key_storage').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([{ key_storage: 'hardware' }]);
  });
});

describe.each(testDialects())('a service without trusted attestation roots, on %s', (dialect) => {
  let app: ListeningApp;
  beforeAll(async () => {
    app = await listeningApp(dialect, { config: { keyAttestationRoots: '' } });
  });
  afterAll(async () => app.close());

  it('verifies no attestation and says why; the code then activates a software device', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const error = await rejection(DeviceClient.activate(app.url, code, { keyAttestation: (await testKeyStore()).attestor() }));
    expect(error.code).toBe('device_attestation_invalid');
    expect(error.detail).toBe('no key attestation roots are configured on this service (TASDIQ_KEY_ATTESTATION_ROOTS), so no attestation can be verified; activate without keyAttestation');
    expect(await app.context.db.selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
    const device = await DeviceClient.activate(app.url, code);
    expect(await device.me()).toMatchObject({ keyStorage: 'software' });
  });
});

describe('TASDIQ_KEY_ATTESTATION_STATUS (Google attestation status list)', () => {
  it('names a readable file; entries must be hex serials with status REVOKED or SUSPENDED', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-status-'));
    expect(loadConfig({}).keyAttestationStatus).toBeUndefined();
    let problems: readonly string[] = [];
    try {
      loadConfig({ TASDIQ_KEY_ATTESTATION_STATUS: join(dir, 'missing.json') });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^TASDIQ_KEY_ATTESTATION_STATUS: cannot read .*missing\.json: ENOENT/)]);
    const file = join(dir, 'status.json');
    writeFileSync(file, JSON.stringify({ entries: { '00AB12': { status: 'REVOKED', reason: 'KEY_COMPROMISE' }, c0ffee: { status: 'SUSPENDED' } } }));
    expect([...readAttestationStatus(file)]).toEqual([
      ['ab12', { status: 'REVOKED', reason: 'KEY_COMPROMISE' }],
      ['c0ffee', { status: 'SUSPENDED', reason: undefined }],
    ]);
    writeFileSync(file, JSON.stringify({ entries: { 'not-hex': { status: 'REVOKED' } } }));
    expect(() => readAttestationStatus(file)).toThrow(/TASDIQ_KEY_ATTESTATION_STATUS: .*entry "not-hex" is not a hexadecimal serial number/);
    writeFileSync(file, JSON.stringify({ entries: { ab: { status: 'OK' } } }));
    expect(() => readAttestationStatus(file)).toThrow(/entry ab has status "OK", expected "REVOKED" or "SUSPENDED"/);
    writeFileSync(file, '[]');
    expect(() => readAttestationStatus(file)).toThrow(/is not an attestation status list: no "entries" object/);
  });
});

describe.each(testDialects())('an attestation chain on the status list, on %s', (dialect) => {
  let app: ListeningApp;
  let statusFile: string;
  beforeAll(async () => {
    const store = await testKeyStore();
    statusFile = join(mkdtempSync(join(tmpdir(), 'tasdiq-status-')), 'status.json');
    // A batch of devices revoked by their intermediate, as Google does when a key store leaks.
    writeFileSync(statusFile, JSON.stringify({ entries: { [store.serials.intermediate.toLowerCase()]: { status: 'REVOKED', reason: 'KEY_COMPROMISE' } } }));
    app = await listeningApp(dialect, { config: { keyAttestationStatus: statusFile } });
  });
  afterAll(async () => app.close());

  it('is refused while listed; a newer copy of the list without it is read within a minute', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const error = await rejection(DeviceClient.activate(app.url, code, { keyAttestation: await hardwareKeyStore() }));
    expect(error).toMatchObject({ status: 400, code: 'device_attestation_invalid' });
    expect(error.detail).toBe('authChain[1] is REVOKED in the attestation status list (KEY_COMPROMISE)');
    writeFileSync(statusFile, JSON.stringify({ entries: {} }));
    app.advance(61_000);
    const device = await DeviceClient.activate(app.url, code, { keyAttestation: await hardwareKeyStore() });
    expect(await device.me()).toMatchObject({ keyStorage: 'hardware' });
  });
});
