import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '@peculiar/x509';
import { DeviceClient } from '../../../client/src/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { call, idCard, PUBLIC_URL, registerOperator, smsCodeFor, validDemoCitizen, type OperatorSession } from '../enrollment/helpers.ts';
import { rejection } from '../support/rejection.ts';

/**
 * The operator console's lifecycle actions reach the phone: a re-bind or a revoked enrollment
 * revokes the app and lists its certificates on the CRL in the same transaction; a suspension
 * stops confirmations until the enrollment is resumed. Everything goes through the real APIs.
 */
describe.each(testDialects())('operator actions and devices on %s', (dialect) => {
  let app: TestApp;
  let url: string;
  let operator: OperatorSession;
  let supervisor: OperatorSession;

  beforeAll(async () => {
    app = await createTestApp(dialect, { config: { publicUrl: PUBLIC_URL, dataDir: mkdtempSync(join(tmpdir(), 'tasdiq-revoke-')) } });
    url = await app.http.listen({ host: '127.0.0.1', port: 0 });
    operator = await registerOperator(app, 'operator');
    supervisor = await registerOperator(app, 'supervisor', 'notary-tk-01');
  });
  afterAll(async () => app?.close());

  async function bind(citizenId: string, phone: string, as: OperatorSession, rebind = false): Promise<void> {
    const started = await call(app, as, 'POST', rebind ? `/api/v1/citizens/${citizenId}/rebind` : `/api/v1/citizens/${citizenId}/phone-binding`, rebind ? { phone, reason: 'SIM replaced' } : { phone });
    expect(started.statusCode, started.body).toBe(201);
    const code = await smsCodeFor(app, started.json().notificationId);
    const confirmed = await call(app, as, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: started.json().binding.id, code });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
  }

  async function activate(citizenId: string): Promise<DeviceClient> {
    const issued = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`);
    expect(issued.statusCode, issued.body).toBe(201);
    return DeviceClient.activate(url, issued.json().code as string);
  }

  async function crlSerials(): Promise<string[]> {
    const crl = new x509.X509Crl(new Uint8Array(await (await fetch(`${url}/api/v1/device/ca/crl`)).arrayBuffer()));
    return crl.entries.map((e) => e.serialNumber);
  }

  const serialsOf = (device: DeviceClient) => [new x509.X509Certificate(device.state.authCertificate).serialNumber, new x509.X509Certificate(device.state.signCertificate).serialNumber];

  it('shows the citizen the offices that enrolled and changed them, in their language', async () => {
    const person = validDemoCitizen(20);
    const enrolled = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) });
    const citizenId = enrolled.json().citizen.id as string;
    await bind(citizenId, '+998 90 555 00 20', operator);
    await bind(citizenId, '+998 90 555 01 20', supervisor, true);
    const device = await activate(citizenId);
    const offices = await app.context.db.selectFrom('offices').select(['id', 'name_ru', 'name_uz_latn']).where('id', 'in', ['psc-tk-01', 'notary-tk-01']).execute();
    const history = await device.request<{ items: { action: string; office: { id: string; name: string } }[] }>('GET', '/api/v1/me/offices');
    expect(history.items.map((i) => i.action).reverse()).toEqual(['enrollment.created', 'enrollment.binding_started', 'enrollment.phone_bound', 'enrollment.rebind_started', 'enrollment.phone_rebound', 'enrollment.activation_code_issued']);
    const latn = new Map(offices.map((o) => [o.id, o.name_uz_latn]));
    expect(history.items.find((i) => i.action === 'enrollment.phone_rebound')!.office).toMatchObject({ id: 'notary-tk-01', name: latn.get('notary-tk-01') });
    expect(history.items.at(-1)!.office).toMatchObject({ id: 'psc-tk-01', name: latn.get('psc-tk-01') });
    // An unsigned caller learns nothing; the citizen is always the device's own.
    const anonymous = await fetch(`${url}/api/v1/me/offices`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe('device_auth_missing');
  });

  it('a suspended enrollment cannot confirm a request already on the phone; a resumed one can', async () => {
    const person = validDemoCitizen(21);
    const citizenId = (await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) })).json().citizen.id as string;
    await bind(citizenId, '+998 90 555 00 21', operator);
    const device = await activate(citizenId);
    const started = await app.http.inject({ method: 'POST', url: '/api/v1/auth/sessions', payload: { pinfl: person.pinfl, serviceId: 'test.uz', serviceName: 'Test' } });
    expect(started.statusCode, started.body).toBe(201);
    const request = (await device.pending())!;
    expect(request).not.toBeNull();
    expect((await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/suspend`, { reason: 'Phone reported stolen' })).statusCode).toBe(200);
    const refused = await rejection(device.confirm(request, started.json().verificationCode));
    expect([refused.status, refused.code]).toEqual([403, 'auth_enrollment_suspended']);
    const session = await app.context.db.selectFrom('auth_sessions').select(['state', 'result']).where('id', '=', request.sessionId).executeTakeFirstOrThrow();
    expect(session).toEqual({ state: 'pending', result: null });
    // Nor can a new sign-in start while suspended, named by PINFL or by phone.
    for (const subject of [{ pinfl: person.pinfl }, { phone: '+998905550021' }]) {
      const refusedStart = await app.http.inject({ method: 'POST', url: '/api/v1/auth/sessions', payload: { ...subject, serviceId: 'other.uz', serviceName: 'Other' } });
      expect(refusedStart.json()).toMatchObject({ state: 'complete', result: 'NOT_ACTIVATED' });
    }
    // Suspension keeps the device and its certificates: a resume brings the same app back.
    expect(await crlSerials()).not.toContain(serialsOf(device)[0]);
    expect((await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/resume`, { reason: 'Phone found' })).statusCode).toBe(200);
    expect((await device.confirm(request, started.json().verificationCode)).result).toBe('OK');
  });

  it('a re-bind revokes the old phone\'s app, and a revoked enrollment the new one, both on the CRL at once', async () => {
    const person = validDemoCitizen(22);
    const citizenId = (await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) })).json().citizen.id as string;
    await bind(citizenId, '+998 90 555 00 22', operator);
    const oldPhone = await activate(citizenId);
    expect((await oldPhone.me()).status).toBe('active');
    await bind(citizenId, '+998 90 555 01 22', supervisor, true);
    const stale = await rejection(oldPhone.me());
    expect([stale.status, stale.code]).toEqual([403, 'device_revoked']);
    let serials = await crlSerials();
    for (const serial of serialsOf(oldPhone)) expect(serials).toContain(serial);

    const newPhone = await activate(citizenId);
    // A sign-in waiting on the phone ends with the enrollment, not at its timeout.
    const started = await app.http.inject({ method: 'POST', url: '/api/v1/auth/sessions', payload: { pinfl: person.pinfl, serviceId: 'test.uz', serviceName: 'Test' } });
    expect(started.json().state).toBe('pending');
    const revoked = await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/revoke`, { reason: 'Deceased (registry notice)' });
    expect(revoked.statusCode, revoked.body).toBe(200);
    const gone = await rejection(newPhone.me());
    expect([gone.status, gone.code]).toEqual([403, 'device_revoked']);
    serials = await crlSerials();
    for (const serial of serialsOf(newPhone)) expect(serials).toContain(serial);
    const result = await app.http.inject({ method: 'GET', url: `/api/v1/auth/sessions/${started.json().sessionId}`, headers: { authorization: `Bearer ${started.json().sessionToken}` } });
    expect(result.json()).toMatchObject({ state: 'complete', result: 'DEVICE_REVOKED' });
    const certificates = await app.context.db.selectFrom('device_certificates').select(['revocation_reason']).where('device_id', '=', newPhone.deviceId).execute();
    expect(certificates.map((c) => c.revocation_reason)).toEqual(['enrollment_revoked', 'enrollment_revoked']);
  });
});
