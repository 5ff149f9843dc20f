import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as jose from 'jose';
import * as x509 from '@peculiar/x509';
import { DeviceClient, canonicalRequest as clientCanonical, activationMessage as clientActivation, signES256, generateDeviceKey } from '../../../client/src/index.ts';
import { canonicalRequest, activationMessage } from '../../src/devices/canonical.ts';
import { revokeDevicesForCitizen } from '../../src/devices/index.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from './fixtures.ts';
import { rejection } from '../support/rejection.ts';

describe('signed strings', () => {
  it('client and server build the same canonical request and activation message', async () => {
    const input = { method: 'post', path: '/api/v1/device/requests/as_x/confirm?a=1', deviceId: 'dev_abc', counter: 42, timestamp: 1764000000000, body: '{"a":"ü"}' };
    expect(await clientCanonical(input)).toBe(canonicalRequest(input));
    expect(canonicalRequest({ ...input, body: '' }).split('\n').at(-1)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(clientActivation('CODE', 'a', 'b')).toBe(activationMessage('CODE', 'a', 'b'));
  });
});

describe.each(testDialects())('devices on %s', (dialect) => {
  let app: ListeningApp;
  beforeAll(async () => {
    app = await listeningApp(dialect);
  });
  afterAll(async () => app.close());

  it('activates: certificates name the PINFL, chain to the CA, separate auth and signing usages', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const device = await DeviceClient.activate(app.url, code, { label: 'Test phone' });
    expect(device.deviceId).toMatch(/^dev_/);
    const ca = new x509.X509Certificate(device.state.caCertificate);
    const auth = new x509.X509Certificate(device.state.authCertificate);
    const sign = new x509.X509Certificate(device.state.signCertificate);
    for (const cert of [auth, sign]) {
      expect(cert.subjectName.getField('2.5.4.5')).toEqual([`PNOUZ-${citizen.pinfl}`]);
      expect(cert.issuer).toBe(ca.subject);
      expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
      expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeLessThan(400 * 86_400_000);
    }
    expect(await ca.verify({ signatureOnly: true })).toBe(true);
    expect(auth.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(sign.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.nonRepudiation);
    expect(ca.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(true);

    // spent: the same code cannot activate a second device
    expect((await rejection(DeviceClient.activate(app.url, code))).code).toBe('activation_code_invalid');
    const audit = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'device.activated').where('actor_id', '=', device.deviceId).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).not.toContain(citizen.pinfl);
    const notice = await app.context.db.selectFrom('notify_outbox').selectAll().where('correlation_id', '=', device.deviceId).execute();
    expect(notice.map((m) => m.kind)).toEqual(['device.activated']);
  });

  it('sends every request through the transport it was given, also once restored', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const paths: string[] = [];
    const transport: typeof fetch = (input, init) => {
      paths.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    };
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { fetch: transport, extractable: true });
    await device.me();
    await device.pushConfig();
    const restored = await DeviceClient.restore(await device.save(), { fetch: transport });
    await restored.me();
    expect(paths).toEqual(['POST /api/v1/device/activate', 'GET /api/v1/device/me', 'GET /api/v1/device/push-config', 'GET /api/v1/device/me']);
  });

  it('rejects a proof made by another key without spending the code, and bad keys with 400', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const a = await generateDeviceKey();
    const b = await generateDeviceKey();
    const intruder = await generateDeviceKey();
    const message = activationMessage(code, a.spki, b.spki);
    const post = (body: unknown) => fetch(`${app.url}/api/v1/device/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let response = await post({ activationCode: code, authKey: a.spki, signKey: b.spki, authProof: await signES256(intruder, message), signProof: await signES256(b, message) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('device_proof_invalid');
    response = await post({ activationCode: code, authKey: 'A'.repeat(120), signKey: b.spki, authProof: 'A'.repeat(86), signProof: 'A'.repeat(86) });
    expect(((await response.json()) as { code: string }).code).toBe('device_key_invalid');
    response = await post({ activationCode: code, authKey: a.spki });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('validation_failed');
    // the code still works after the failures
    expect((await DeviceClient.activate(app.url, code)).deviceId).toMatch(/^dev_/);
  });

  it('accepts signed requests once: a replayed signature, a tampered body, a stale clock all fail', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    expect(await device.me()).toMatchObject({ deviceId: device.deviceId, status: 'active', counter: 1 });

    const path = '/api/v1/device/link';
    const body = JSON.stringify({ qr: 'x' });
    const headers = { ...(await device.signRequest('POST', path, body)), 'content-type': 'application/json' };
    const first = await fetch(app.url + path, { method: 'POST', headers, body });
    expect(((await first.json()) as { code: string }).code).toBe('auth_qr_invalid'); // authenticated, then the QR is judged
    const replay = await fetch(app.url + path, { method: 'POST', headers, body });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { code: string }).code).toBe('device_request_replayed');

    const fresh = { ...(await device.signRequest('POST', path, body)), 'content-type': 'application/json' };
    const tampered = await fetch(app.url + path, { method: 'POST', headers: fresh, body: JSON.stringify({ qr: 'y' }) });
    expect(((await tampered.json()) as { code: string }).code).toBe('device_signature_invalid');

    const skewed = new DeviceClient(device.state, { now: () => Date.now() - 10 * 60_000 });
    expect((await rejection(skewed.me())).code).toBe('device_clock_skew');
    const bare = await fetch(`${app.url}/api/v1/device/me`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { code: string }).code).toBe('device_auth_missing');
    const other = await enrollCitizen(app.context.db, app.url, app.clock);
    const impostor = await DeviceClient.activate(app.url, await other.activationCode());
    // another device's key cannot speak for this device
    const forged = new DeviceClient({ ...impostor.state, deviceId: device.deviceId, counter: 1000 });
    expect((await rejection(forged.me())).code).toBe('device_signature_invalid');
    // after all that, the real device still works
    expect((await device.me()).status).toBe('active');
  });

  it('revocation stops the device at once and lists its certificates in the CRL', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode());
    await app.context.db.transaction().execute((tx) => revokeDevicesForCitizen(tx, citizen.citizenId, 'binding_revoked', app.clock()));
    const error = await rejection(device.me());
    expect(error.status).toBe(403);
    expect(error.code).toBe('device_revoked');
    const crlResponse = await fetch(`${app.url}/api/v1/device/ca/crl`);
    expect(crlResponse.headers.get('content-type')).toContain('application/pkix-crl');
    const crl = new x509.X509Crl(new Uint8Array(await crlResponse.arrayBuffer()));
    const pem = await (await fetch(`${app.url}/api/v1/device/ca/certificate`)).text();
    const ca = new x509.X509Certificate(pem);
    expect(await crl.verify({ publicKey: ca.publicKey })).toBe(true);
    const serials = crl.entries.map((e) => e.serialNumber);
    expect(serials).toContain(new x509.X509Certificate(device.state.authCertificate).serialNumber);
    expect(serials).toContain(new x509.X509Certificate(device.state.signCertificate).serialNumber);
    // the signed CRL is served again while nothing changed, and re-signed as soon as something is revoked
    const again = new Uint8Array(await (await fetch(`${app.url}/api/v1/device/ca/crl`)).arrayBuffer());
    expect(Buffer.from(again).equals(Buffer.from(crl.rawData))).toBe(true);
    const other = await enrollCitizen(app.context.db, app.url, app.clock);
    const otherDevice = await DeviceClient.activate(app.url, await other.activationCode());
    await app.context.db.transaction().execute((tx) => revokeDevicesForCitizen(tx, other.citizenId, 'enrollment_revoked', app.clock()));
    const next = new x509.X509Crl(new Uint8Array(await (await fetch(`${app.url}/api/v1/device/ca/crl`)).arrayBuffer()));
    const entry = next.entries.find((e) => e.serialNumber === new x509.X509Certificate(otherDevice.state.authCertificate).serialNumber);
    expect(entry?.reason).toBe(x509.X509CrlReason.cessationOfOperation);
  });

  it('a new activation supersedes the citizen\'s previous device', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const first = await DeviceClient.activate(app.url, await citizen.activationCode());
    const second = await DeviceClient.activate(app.url, await citizen.activationCode());
    expect((await rejection(first.me())).code).toBe('device_revoked');
    expect((await second.me()).status).toBe('active');
  });
  // Last in this file: it moves the shared clock forward by most of a year.
  it('renews certificates for the same keys in their last weeks; later sign-ins name the new ones', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    const early = await rejection(device.request('POST', '/api/v1/device/certificates/renew'));
    expect(early.status).toBe(409);
    expect(early.code).toBe('device_renewal_not_due');
    const before = await app.context.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    app.advance(310 * 86_400_000);
    const { SessionClient } = await import('../../../client/src/index.ts');
    const rp = new SessionClient(app.url);
    // A sign-in started before the renewal and confirmed after it.
    const startedBefore = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'Portal', pinfl: citizen.pinfl });
    const renewed = await device.request<{ authCertificate: string; signCertificate: string; certificatesNotAfter: number }>('POST', '/api/v1/device/certificates/renew');
    expect(renewed.certificatesNotAfter).toBeGreaterThan(before.cert_not_after + 300 * 86_400_000);
    const fresh = new x509.X509Certificate(renewed.authCertificate);
    const old = new x509.X509Certificate(device.state.authCertificate);
    expect(fresh.serialNumber).not.toBe(old.serialNumber);
    // the same key, certified again; the old certificate is not revoked (its signatures stay valid)
    expect(Buffer.from(fresh.publicKey.rawData).equals(Buffer.from(old.publicKey.rawData))).toBe(true);
    const after = await app.context.db.selectFrom('devices').selectAll().where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ auth_cert_serial: fresh.serialNumber, status: 'active' });
    const oldRow = await app.context.db.selectFrom('device_certificates').selectAll().where('serial', '=', before.auth_cert_serial).executeTakeFirstOrThrow();
    expect(oldRow.revoked_at).toBeNull();
    // a second renewal right away is not due any more
    expect((await rejection(device.request('POST', '/api/v1/device/certificates/renew'))).code).toBe('device_renewal_not_due');
    // The sign-in started before is signed under the certificate it was started with: its
    // JWS names the old one (the same key), and verifies.
    const x5cSerial = (jws: string) => new x509.X509Certificate((JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { x5c: string[] }).x5c[0]!).serialNumber;
    const earlier = (await device.pending())!;
    expect(x5cSerial(earlier.signingInput)).toBe(old.serialNumber);
    await device.confirm(earlier, startedBefore.verificationCode!);
    const signedBefore = await rp.result(startedBefore, 0);
    expect(signedBefore.result).toBe('OK');
    expect(x5cSerial(signedBefore.jws!)).toBe(old.serialNumber);
    const key = await jose.importX509(old.toString('pem'), 'ES256');
    expect((await jose.compactVerify(signedBefore.jws!, key)).protectedHeader.alg).toBe('ES256');
    // a sign-in started now carries the renewed certificate in its chain
    const started = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'Portal', pinfl: citizen.pinfl });
    const request = (await device.pending())!;
    const header = JSON.parse(Buffer.from(request.signingInput.split('.')[0]!, 'base64url').toString()) as { x5c: string[] };
    expect(new x509.X509Certificate(header.x5c[0]!).serialNumber).toBe(fresh.serialNumber);
    await device.confirm(request, started.verificationCode!);
    const audit = await app.context.db.selectFrom('audit_events').select('action').where('subject_citizen_id', '=', citizen.citizenId).where('action', '=', 'device.certificates_renewed').execute();
    expect(audit).toHaveLength(1);
  });
});
