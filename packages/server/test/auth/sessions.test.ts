import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import * as jose from 'jose';
import * as x509 from '@peculiar/x509';
import { DeviceClient, SessionClient, TasdiqApiError, verificationCode as clientVerificationCode } from '../../../client/src/index.ts';
import { verificationCode } from '../../src/auth/codes.ts';
import { makePinfl } from '../../src/identity/pinfl.ts';
import { revokeDevicesForCitizen } from '../../src/devices/index.ts';
import { authModule } from '../../src/auth/index.ts';
import { testDialects } from '../support/databases.ts';
import { activateHardwareDevice, enrollCitizen, listeningApp, type EnrolledCitizen, type ListeningApp } from '../devices/fixtures.ts';
import { rejection } from '../support/rejection.ts';

const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'Yagona interaktiv davlat xizmatlari portali' };

/** Verifies a result JWS the way any relying party can: with the certificate in its x5c. */
async function verifyJws(jws: string) {
  const header = jose.decodeProtectedHeader(jws);
  const [leaf, ca] = header.x5c!;
  const caCert = new x509.X509Certificate(ca!);
  const leafCert = new x509.X509Certificate(leaf!);
  expect(await leafCert.verify({ publicKey: caCert.publicKey, signatureOnly: true })).toBe(true);
  const key = await jose.importX509(leafCert.toString('pem'), 'ES256');
  const { payload } = await jose.compactVerify(jws, key);
  return { header, leafCert, payload: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> };
}

describe.each(testDialects())('auth sessions on %s', (dialect) => {
  let app: ListeningApp;
  let rp: SessionClient;
  /** `hardware`: the phone's keys attested by the test key store (the `high` level needs it with the in-person enrollment). */
  const activated = async (options: { hardware?: boolean } = {}): Promise<{ citizen: EnrolledCitizen; device: DeviceClient }> => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const code = await citizen.activationCode();
    const device = options.hardware ? await activateHardwareDevice(app.url, code, { now: app.clock }) : await DeviceClient.activate(app.url, code, { now: app.clock });
    return { citizen, device };
  };
  const sessionRow = (id: string) => app.context.db.selectFrom('auth_sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  beforeAll(async () => {
    app = await listeningApp(dialect);
    rp = new SessionClient(app.url);
  });
  afterAll(async () => app.close());

  it('signs in with confirm-on-phone and the code choice; the result JWS verifies with its x5c', async () => {
    // Enrolled in person, keys attested as hardware-backed: the high level.
    const { citizen, device } = await activated({ hardware: true });
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl, reason: 'Kirish' });
    expect(started.verificationCode).toMatch(/^\d{4}$/);
    const waiting = rp.result(started, 10_000);
    const request = (await device.pending())!;
    expect(request).toMatchObject({ sessionId: started.sessionId, kind: 'auth', service: SERVICE.serviceName, reason: 'Kirish' });
    expect(new Set(request.verificationCodeChoices).size).toBe(3);
    expect(request.verificationCodeChoices).toContain(started.verificationCode);
    // Smart-ID's formula, computed three ways: server, client, and by hand here
    const challengeHash = createHash('sha256').update(request.signingInput).digest();
    const digest = createHash('sha256').update(challengeHash).digest();
    const byHand = String(digest.readUInt16BE(30) % 10000).padStart(4, '0');
    expect(started.verificationCode).toBe(byHand);
    expect(verificationCode(challengeHash)).toBe(byHand);
    expect(await clientVerificationCode(request.signingInput)).toBe(byHand);

    const confirmed = await device.confirm(request, started.verificationCode!);
    // The phone learns the outcome; the JWS and the PINFL are the relying party's.
    expect(confirmed).toEqual({ sessionId: started.sessionId, kind: 'auth', state: 'complete', result: 'OK', assurance: 'high', completedAt: expect.any(Number) });
    const result = await waiting;
    expect(result).toMatchObject({ state: 'complete', result: 'OK', assurance: 'high', subject: { pinfl: citizen.pinfl } });
    const { payload, leafCert } = await verifyJws(result.jws!);
    expect(payload).toMatchObject({ sid: started.sessionId, sub: `PNOUZ-${citizen.pinfl}`, aud: SERVICE.serviceId });
    expect(leafCert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    const audit = await app.context.db.selectFrom('audit_events').select(['action', 'details']).where('subject_citizen_id', '=', citizen.citizenId).where('action', 'like', 'auth.%').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['auth.session_started', 'auth.session_completed']);
    expect(JSON.parse(audit[1]!.details)).toMatchObject({ result: 'OK', sessionId: started.sessionId });
    const push = await app.context.db.selectFrom('notify_outbox').selectAll().where('correlation_id', '=', started.sessionId).executeTakeFirstOrThrow();
    expect(push).toMatchObject({ kind: 'auth.open_app', channel: 'push', recipient: device.deviceId });
    // the result is only for the holder of the session token
    expect((await rejection(rp.result({ sessionId: started.sessionId, sessionToken: 'x'.repeat(43) }))).code).toBe('auth_session_not_found');
  });

  it('a replayed device signature fails, and a session is confirmed once', async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, phone: citizen.phone });
    const request = (await device.pending())!;
    const key = device.state.authKey;
    const signature = await (await import('../../../client/src/keys.ts')).signES256(key, request.signingInput);
    const path = `/api/v1/device/requests/${request.sessionId}/confirm`;
    const body = JSON.stringify({ signature, verificationCode: started.verificationCode });
    const headers = { ...(await device.signRequest('POST', path, body)), 'content-type': 'application/json' };
    expect((await fetch(app.url + path, { method: 'POST', headers, body })).status).toBe(200);
    const replay = await fetch(app.url + path, { method: 'POST', headers, body });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { code: string }).code).toBe('device_request_replayed');
    expect((await rejection(device.confirm(request, started.verificationCode!))).code).toBe('auth_session_not_pending');
    // The pending fetch reads the session in the statement that moves the counter: a replay
    // of it is refused too, and reads nothing.
    const pendingPath = '/api/v1/device/requests/pending';
    const pendingHeaders = await device.signRequest('GET', pendingPath, '');
    expect((await fetch(app.url + pendingPath, { headers: pendingHeaders })).status).toBe(200);
    const pendingReplay = await fetch(app.url + pendingPath, { headers: pendingHeaders });
    expect([pendingReplay.status, ((await pendingReplay.json()) as { code: string }).code]).toEqual([401, 'device_request_replayed']);
    const completed = await app.context.db.selectFrom('audit_events').select('id').where('action', '=', 'auth.session_completed').where('subject_citizen_id', '=', citizen.citizenId).execute();
    expect(completed).toHaveLength(1);
  });

  it('a wrong code choice fails, is counted, and repeated refusals cool down', async () => {
    const { citizen, device } = await activated();
    let started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    let request = (await device.pending())!;
    const wrong = request.verificationCodeChoices!.find((c) => c !== started.verificationCode)!;
    const error = await rejection(device.confirm(request, wrong));
    expect(error.code).toBe('auth_wrong_verification_code');
    expect(await sessionRow(started.sessionId)).toMatchObject({ result: 'WRONG_VC', vc_attempts: 1, state: 'complete' });
    expect((await rp.result(started)).result).toBe('WRONG_VC');
    for (let i = 0; i < 2; i++) {
      started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
      request = (await device.pending())!;
      expect((await device.refuse(request)).result).toBe('USER_REFUSED');
    }
    const cooled = await rejection(rp.start({ ...SERVICE, pinfl: citizen.pinfl }));
    expect(cooled.status).toBe(429);
    expect(cooled.code).toBe('auth_cooldown');
    app.advance(11 * 60_000);
    const after = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    expect(after.state).toBe('pending');
  });

  it('refuses a second concurrent request for the same citizen', async () => {
    const { citizen } = await activated();
    const attempts = await Promise.allSettled(Array.from({ length: 5 }, () => rp.start({ ...SERVICE, pinfl: citizen.pinfl })));
    const ok = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused.map((r) => (r.reason as TasdiqApiError).code)).toEqual(Array(4).fill('auth_session_already_pending'));
  });

  it("a confirmation's counter moves in the write that completes it: a failed one leaves it, racing copies confirm once", async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, phone: citizen.phone });
    const request = (await device.pending())!;
    const storedCounter = async () => Number((await app.context.db.selectFrom('devices').select('counter').where('id', '=', device.deviceId).executeTakeFirstOrThrow()).counter);
    const before = await storedCounter();
    const { signES256 } = await import('../../../client/src/keys.ts');
    const path = `/api/v1/device/requests/${request.sessionId}/confirm`;
    const post = async (signature: string) => {
      const body = JSON.stringify({ signature, verificationCode: started.verificationCode });
      return { body, headers: { ...(await device.signRequest('POST', path, body)), 'content-type': 'application/json' } };
    };
    // A signature over something else: refused before the write, and the counter is not used up.
    const forged = await post(await signES256(device.state.authKey, `${request.signingInput}x`));
    const refused = await fetch(app.url + path, { method: 'POST', ...forged });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('auth_signature_invalid');
    expect(await storedCounter()).toBe(before);
    // Two copies of one good confirmation at once: one completes, the other is a replay.
    const good = await post(await signES256(device.state.authKey, request.signingInput));
    const answers = await Promise.all([0, 1].map(async () => fetch(app.url + path, { method: 'POST', ...good })));
    const outcomes = await Promise.all(answers.map(async (r) => `${r.status} ${((await r.json()) as { code?: string; result?: string }).code ?? 'ok'}`));
    expect(outcomes.sort()).toEqual(['200 ok', '401 device_request_replayed']);
    expect(await storedCounter()).toBeGreaterThan(before);
    expect((await rp.result(started)).result).toBe('OK');
    const completions = await app.context.db.selectFrom('audit_events').select('id').where('action', '=', 'auth.session_completed').where('details', 'like', `%${started.sessionId}%`).execute();
    expect(completions).toHaveLength(1);
  });

  it('a revoked device cannot confirm; its pending session ends DEVICE_REVOKED', async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const request = (await device.pending())!;
    await app.context.db.transaction().execute((tx) => revokeDevicesForCitizen(tx, citizen.citizenId, 'binding_revoked', app.clock()));
    const error = await rejection(device.confirm(request, started.verificationCode!));
    expect(error.code).toBe('device_revoked');
    expect((await rejection(device.pending())).code).toBe('device_revoked');
    expect((await rp.result(started)).result).toBe('DEVICE_REVOKED');
  });

  it('a device whose certificates expired cannot confirm or fetch; its session stays unconfirmed', async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const request = (await device.pending())!;
    // Its certificates run out between the fetch and the confirmation.
    await app.context.db.updateTable('devices').set({ cert_not_after: app.clock() - 1 }).where('id', '=', device.deviceId).execute();
    const refused = await rejection(device.confirm(request, started.verificationCode!));
    expect([refused.status, refused.code]).toEqual([403, 'device_certificate_expired']);
    expect((await rejection(device.pending())).code).toBe('device_certificate_expired');
    const session = await app.context.db.selectFrom('auth_sessions').select(['state', 'result']).where('id', '=', started.sessionId).executeTakeFirstOrThrow();
    expect(session).toEqual({ state: 'pending', result: null });
  });

  it('an expired session cannot be confirmed and ends TIMEOUT', async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const request = (await device.pending())!;
    app.advance(121_000);
    expect((await rejection(device.confirm(request, started.verificationCode!))).code).toBe('auth_session_expired');
    expect((await rp.result(started)).result).toBe('TIMEOUT');
  });

  it('answers NOT_ACTIVATED for a citizen without the app and for an unknown one', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    expect(started).toMatchObject({ state: 'complete', result: 'NOT_ACTIVATED', verificationCode: null });
    // a well-formed PINFL nobody holds, and one whose check digit is wrong
    const nobody = makePinfl('1985-02-03', 'F', 977, 977);
    expect(await rp.start({ ...SERVICE, pinfl: nobody })).toMatchObject({ state: 'complete', result: 'NOT_ACTIVATED' });
    const wrongDigit = `${nobody.slice(0, 13)}${(Number(nobody[13]) + 1) % 10}`;
    expect((await rejection(rp.start({ ...SERVICE, pinfl: wrongDigit }))).code).toBe('validation_failed');
    // an activated phone whose enrollment is suspended cannot be used
    const { citizen: suspended } = await activated();
    await app.context.db.updateTable('enrollments').set({ status: 'suspended' }).where('citizen_id', '=', suspended.citizenId).execute();
    expect(await rp.start({ ...SERVICE, pinfl: suspended.pinfl })).toMatchObject({ state: 'complete', result: 'NOT_ACTIVATED' });
    // a phone re-bound to a new number: the app activated under the old binding is revoked on first use
    const { citizen: rebound, device: oldPhone } = await activated();
    const old = await app.context.db.selectFrom('phone_bindings').selectAll().where('id', '=', rebound.bindingId).executeTakeFirstOrThrow();
    await app.context.db.updateTable('phone_bindings').set({ status: 'replaced', active_phone: null, active_citizen_id: null, ended_at: app.clock() }).where('id', '=', old.id).execute();
    const newPhone = `+99891${rebound.phone.slice(-7)}`;
    await app.context.db.insertInto('phone_bindings').values({ ...old, id: `${old.id}_2`, phone: newPhone, active_phone: newPhone }).execute();
    expect(await rp.start({ ...SERVICE, pinfl: rebound.pinfl })).toMatchObject({ result: 'NOT_ACTIVATED' });
    expect((await rejection(oldPhone.me())).code).toBe('device_revoked');
    const bad = await rejection(rp.start({ ...SERVICE, pinfl: citizen.pinfl, phone: citizen.phone }));
    expect(bad.code).toBe('auth_subject_required');
    const malformed = await rejection(rp.start({ ...SERVICE, pinfl: '123' }));
    expect(malformed.code).toBe('validation_failed');
  });

  it('signs a document hash with the signing key; the JWS names the hash and verifies with jose', async () => {
    const { citizen, device } = await activated();
    const documentHash = createHash('sha256').update('Shartnoma #42').digest('base64url');
    const started = await rp.startSigning({ ...SERVICE, pinfl: citizen.pinfl, documentHash, documentName: 'shartnoma-42.pdf' });
    const request = (await device.pending())!;
    expect(request).toMatchObject({ kind: 'sign', documentHash, documentName: 'shartnoma-42.pdf' });
    await device.confirm(request, started.verificationCode!);
    const result = await rp.result(started);
    const { payload, leafCert } = await verifyJws(result.jws!);
    expect(payload).toMatchObject({ hash: documentHash, hashAlg: 'SHA-256', sub: `PNOUZ-${citizen.pinfl}` });
    expect(leafCert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.nonRepudiation);
    expect(leafCert.serialNumber).toBe(new x509.X509Certificate(device.state.signCertificate).serialNumber);
  });

  it('device link: the app scans the rotating QR; a stale QR fails', async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, mode: 'device_link' });
    expect(started.qrStartSecret).toBeTruthy();
    const qrResponse = await fetch(`${app.url}/api/v1/auth/sessions/${started.sessionId}/qr`, { headers: { authorization: `Bearer ${started.sessionToken}` } });
    const { qr, elapsedSeconds } = (await qrResponse.json()) as { qr: string; elapsedSeconds: number };
    // the sign-in page can draw the same code from the secret
    const own = createHmac('sha256', Buffer.from(started.qrStartSecret!, 'base64url')).update(`${started.sessionId}${elapsedSeconds}`).digest('hex');
    expect(qr).toBe(`tasdiq.${started.sessionId}.${elapsedSeconds}.${own}`);
    app.advance(5000);
    expect((await rejection(device.link(qr))).code).toBe('auth_qr_invalid');
    const fresh = (await (await fetch(`${app.url}/api/v1/auth/sessions/${started.sessionId}/qr`, { headers: { authorization: `Bearer ${started.sessionToken}` } })).json()) as { qr: string };
    expect(fresh.qr).not.toBe(qr);
    const request = await device.link(fresh.qr);
    expect(request.verificationCodeChoices).toBeNull();
    await device.confirm(request);
    expect(await rp.result(started)).toMatchObject({ result: 'OK', subject: { pinfl: citizen.pinfl } });
  });

  it('SMS one-time code: origin-bound message, lower assurance, cannot be brute-forced', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    // The code as the phone receives it: from the development SMS inbox the notify worker delivers to.
    const seen = new Set<string>();
    const otpOf = async (sessionId: string) => {
      const message = await app.context.db.selectFrom('notify_outbox').selectAll().where('correlation_id', '=', sessionId).executeTakeFirstOrThrow();
      expect(message).toMatchObject({ kind: 'auth.sms_otp', channel: 'sms', recipient: citizen.phone });
      let text = '';
      await expect
        .poll(
          async () => {
            const inbox = (await (await fetch(`${app.url}/api/v1/dev/messages?recipient=${encodeURIComponent(citizen.phone)}`)).json()) as { items: Array<{ id: string; kind: string; text: string }> };
            const fresh = inbox.items.find((m) => m.kind === 'auth.sms_otp' && !seen.has(m.id));
            if (fresh) {
              seen.add(fresh.id);
              text = fresh.text;
            }
            return text;
          },
          { timeout: 10_000 },
        )
        .toMatch(/@my\.gov\.uz #\d{6}$/);
      return /#(\d{6})$/.exec(text)![1]!;
    };
    const verify = (s: { sessionId: string; sessionToken: string }, code: string) =>
      fetch(`${app.url}/api/v1/auth/sessions/${s.sessionId}/otp`, { method: 'POST', headers: { authorization: `Bearer ${s.sessionToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ code }) });

    const first = await rp.start({ ...SERVICE, phone: citizen.phone, mode: 'sms_otp', origin: 'my.gov.uz' });
    const code = await otpOf(first.sessionId);
    const row = await sessionRow(first.sessionId);
    expect(row.otp_hash).not.toContain(code);
    const wrong = code === '000000' ? '000001' : '000000';
    const miss = await verify(first, wrong);
    expect(miss.status).toBe(400);
    expect(await miss.json()).toMatchObject({ code: 'auth_otp_wrong' });
    const hit = await verify(first, code);
    expect(await hit.json()).toMatchObject({ result: 'OK', assurance: 'low', subject: { pinfl: citizen.pinfl } });

    // brute force: ten guesses in parallel, then the right code: only three are ever judged
    const second = await rp.start({ ...SERVICE, phone: citizen.phone, mode: 'sms_otp', origin: 'my.gov.uz' });
    const right = await otpOf(second.sessionId);
    const guesses = Array.from({ length: 10 }, (_, i) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0'));
    const answers = await Promise.all(guesses.map((g) => verify(second, g).then((r) => r.json() as Promise<{ code: string }>)));
    expect(answers.filter((a) => a.code === 'auth_otp_wrong').length).toBeLessThanOrEqual(2);
    expect((await sessionRow(second.sessionId)).otp_attempts).toBe(3);
    const late = await verify(second, right);
    expect(((await late.json()) as { code: string }).code).toMatch(/auth_otp_attempts_exhausted|auth_session_not_pending/);
    expect((await rp.result(second)).result).toBe('WRONG_VC');

    // per phone: a third code in the window is the last
    await rp.start({ ...SERVICE, phone: citizen.phone, mode: 'sms_otp', origin: 'my.gov.uz' });
    app.advance(301_000);
    const limited = await rejection(rp.start({ ...SERVICE, phone: citizen.phone, mode: 'sms_otp', origin: 'my.gov.uz' }));
    expect(limited.code).toBe('auth_otp_rate_limited');
    expect((await rejection(rp.start({ ...SERVICE, phone: citizen.phone, mode: 'sms_otp' }))).code).toBe('validation_failed');
  });
  it('refuses control characters and bidirectional overrides in text the phone shows, writing nothing', async () => {
    const { citizen } = await activated();
    const before = await app.context.db.selectFrom('auth_sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const bad = [
      { ...SERVICE, serviceName: 'Portal\u0000', pinfl: citizen.pinfl },
      { ...SERVICE, serviceName: 'Portal\u0007', pinfl: citizen.pinfl, mode: 'sms_otp' as const, origin: 'my.gov.uz' },
      { ...SERVICE, reason: 'invoice\u202Efdp.exe', pinfl: citizen.pinfl },
      { ...SERVICE, reason: 'line\nbreak', pinfl: citizen.pinfl },
      { ...SERVICE, serviceName: 'Bank\u2066x\u2069', mode: 'device_link' as const },
    ];
    for (const body of bad) {
      const error = await rejection(rp.start(body));
      expect(error.status).toBe(400);
      expect(error.code).toBe('validation_failed');
    }
    const documentHash = createHash('sha256').update('x').digest('base64url');
    expect((await rejection(rp.startSigning({ ...SERVICE, pinfl: citizen.pinfl, documentHash, documentName: 'a\u0000.pdf' }))).code).toBe('validation_failed');
    const after = await app.context.db.selectFrom('auth_sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    // Uzbek and Russian text in every script is fine
    const fine = await rp.start({ ...SERVICE, serviceName: "O'zbekiston pochtasi — Почта России", reason: 'Ҳужжатга имзо қўйиш', pinfl: citizen.pinfl });
    expect(fine.state).toBe('pending');
  });

  it('the starter cancels: the phone request ends CANCELLED, audited, and the citizen can be asked again at once', async () => {
    const { citizen, device } = await activated();
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const request = (await device.pending())!;
    const cancelled = await fetch(`${app.url}/api/v1/auth/sessions/${started.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${started.sessionToken}` } });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ state: 'complete', result: 'CANCELLED' });
    expect(await device.pending()).toBeNull();
    expect((await rejection(device.confirm(request, started.verificationCode!))).code).toBe('auth_session_not_pending');
    // a stranger without the token cannot cancel someone else's session
    const next = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const stranger = await fetch(`${app.url}/api/v1/auth/sessions/${next.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${'y'.repeat(43)}` } });
    expect(stranger.status).toBe(404);
    expect((await sessionRow(next.sessionId)).state).toBe('pending');
    const audit = await app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'auth.session_completed').where('subject_citizen_id', '=', citizen.citizenId).execute();
    expect(audit.map((a) => JSON.parse(a.details).result)).toEqual(['CANCELLED']);
  });

  it('audits every final result, once each', async () => {
    const { citizen, device } = await activated();
    const results: string[] = [];
    let started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await device.refuse((await device.pending())!);
    results.push('USER_REFUSED');
    started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const request = (await device.pending())!;
    await rejection(device.confirm(request, request.verificationCodeChoices!.find((c) => c !== started.verificationCode)!));
    results.push('WRONG_VC');
    started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    app.advance(121_000);
    expect(await device.pending()).toBeNull();
    results.push('TIMEOUT');
    app.advance(11 * 60_000);
    started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await device.confirm((await device.pending())!, started.verificationCode!);
    results.push('OK');
    const audit = await app.context.db.selectFrom('audit_events').select(['details', 'actor_type']).where('action', '=', 'auth.session_completed').where('subject_citizen_id', '=', citizen.citizenId).orderBy('id').execute();
    expect(audit.map((a) => JSON.parse(a.details).result)).toEqual(results);
    expect(audit.map((a) => a.actor_type)).toEqual(['device', 'device', 'system', 'device']);
    const unknown = await rp.start({ ...SERVICE, pinfl: makePinfl('1970-01-01', 'M', 901, 901) });
    const notActivated = await app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'auth.session_completed').where('details', 'like', `%${unknown.sessionId}%`).execute();
    expect(notActivated.map((a) => JSON.parse(a.details).result)).toEqual(['NOT_ACTIVATED']);
  });

  it('a device whose certificates have expired is not activated for new requests', async () => {
    const { citizen } = await activated();
    await app.context.db.updateTable('devices').set({ cert_not_after: app.clock() - 1 }).where('citizen_id', '=', citizen.citizenId).execute();
    expect(await rp.start({ ...SERVICE, pinfl: citizen.pinfl })).toMatchObject({ state: 'complete', result: 'NOT_ACTIVATED' });
    // and its phone is not woken for a request it could not confirm
    const mine = await app.context.db.selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).executeTakeFirstOrThrow();
    expect(await app.context.db.selectFrom('notify_outbox').select('id').where('recipient', '=', mine.id).execute()).toHaveLength(0);
  });
  // Last in this file: it moves the shared clock forward by a day.
  it('completed sessions are purged after a day (the audit log keeps them); pending ones stay', async () => {
    const { citizen, device } = await activated();
    const done = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await device.confirm((await device.pending())!, done.verificationCode!);
    app.advance(25 * 3_600_000);
    const waiting = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    const auth = authModule.service(app.context);
    expect(await auth.purgeCompleted()).toBeGreaterThan(0);
    const rows = await app.context.db.selectFrom('auth_sessions').select('id').where('id', 'in', [done.sessionId, waiting.sessionId]).execute();
    expect(rows.map((r) => r.id)).toEqual([waiting.sessionId]);
    const audit = await app.context.db.selectFrom('audit_events').select('action').where('details', 'like', `%${done.sessionId}%`).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['auth.session_started', 'auth.session_completed']);
  });
});
