import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, SessionClient } from '../../../client/src/index.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from './fixtures.ts';
import { rejection } from '../support/rejection.ts';

const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'Yagona portal' };

describe.each(testDialects())('device history on %s', (dialect) => {
  let app: ListeningApp;
  let rp: SessionClient;

  beforeAll(async () => {
    app = await listeningApp(dialect);
    rp = new SessionClient(app.url);
  });
  afterAll(async () => app.close());

  it("lists the citizen's own sign-ins, signatures, device and enrollment events, newest first, in pages", async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    // Another citizen's activity must never show.
    const other = await enrollCitizen(app.context.db, app.url, app.clock);
    const otherDevice = await DeviceClient.activate(app.url, await other.activationCode(), { now: app.clock });
    const strangers = await rp.start({ serviceId: 'bank.uz', serviceName: 'Begona bank', pinfl: other.pinfl });
    await otherDevice.confirm((await otherDevice.pending())!, strangers.verificationCode!);

    const signIn = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await device.confirm((await device.pending())!, signIn.verificationCode!);
    const refused = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await device.refuse((await device.pending())!);
    const hash = createHash('sha256').update('shartnoma').digest('base64url');
    const signing = await rp.startSigning({ serviceId: 'notarius.uz', serviceName: 'Notarius', pinfl: citizen.pinfl, documentHash: hash, documentName: 'Shartnoma 17.pdf' });
    await device.confirm((await device.pending())!, signing.verificationCode ?? undefined);

    const page = await device.history();
    expect(page.next).toBeNull();
    expect(page.items.map((i) => [i.type, i.action, i.result, i.service])).toEqual([
      ['signature', 'auth.session_completed', 'OK', 'Notarius'],
      ['sign_in', 'auth.session_completed', 'USER_REFUSED', 'Yagona portal'],
      ['sign_in', 'auth.session_completed', 'OK', 'Yagona portal'],
      ['device', 'device.activated', null, null],
      ['enrollment', 'enrollment.activation_code_issued', null, null],
    ]);
    expect(page.items[0]).toMatchObject({ documentName: 'Shartnoma 17.pdf', mode: 'app', thisDevice: true });
    expect(page.items[3]!.thisDevice).toBe(true);
    // Enrollment events name the office (operators issue codes at theirs), never the operator.
    const office = await app.context.db.selectFrom('offices').selectAll().where('id', '=', 'psc-su-boysun').executeTakeFirstOrThrow();
    expect(page.items[4]!.office).toBe(office.name_uz_latn);
    // Times run newest first and are ISO 8601.
    const times = page.items.map((i) => Date.parse(i.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const text = JSON.stringify(page);
    for (const secret of [citizen.pinfl, citizen.phone, citizen.citizenId, other.pinfl, 'Begona bank', 'Test Operator', citizen.bindingId, signIn.sessionId]) expect(text).not.toContain(secret);

    // Pages: keyset by event id, no overlap, the last says so.
    const first = await device.history({ limit: 2 });
    expect(first.items.map((i) => i.id)).toEqual(page.items.slice(0, 2).map((i) => i.id));
    const second = await device.history({ limit: 2, before: first.next! });
    expect(second.items.map((i) => i.id)).toEqual(page.items.slice(2, 4).map((i) => i.id));
    const third = await device.history({ limit: 2, before: second.next! });
    expect(third.items.map((i) => i.id)).toEqual(page.items.slice(4).map((i) => i.id));
    expect(third.next).toBeNull();

    // The office is named in the language asked for.
    device.locale = 'ru';
    expect((await device.history()).items[4]!.office).toBe(office.name_ru);

    // A purged session still names who asked (its client id, here unregistered).
    await app.context.db.deleteFrom('auth_sessions').where('id', '=', refused.sessionId).execute();
    expect((await device.history()).items[1]).toMatchObject({ result: 'USER_REFUSED', service: SERVICE.serviceId, documentName: null });
  });

  it('refuses bad paging with 400 and unsigned or revoked callers', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    expect((await rejection(device.history({ before: 'aud_1 OR 1=1' }))).code).toBe('validation_failed');
    expect((await rejection(device.history({ limit: 0 }))).code).toBe('validation_failed');
    expect((await rejection(device.history({ limit: 51 }))).code).toBe('validation_failed');
    expect((await rejection(device.request('GET', '/api/v1/device/history?citizen=cit_x'))).code).toBe('validation_failed');
    const unsigned = await fetch(`${app.url}/api/v1/device/history`);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { code: string }).code).toBe('device_auth_missing');
    await device.revoke();
    expect((await rejection(device.history())).code).toBe('device_revoked');
  });

  it('answers problems in the language the device asks for', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock, locale: 'ru' });
    const problem = await rejection(device.history({ limit: 0 }));
    expect(problem.title).toMatch(/[А-Яа-я]/);
    device.locale = 'en';
    expect((await rejection(device.link('tasdiq.as_nothing'))).title).toMatch(/^[\x20-\x7e]+$/);
    const spent = await rejection(DeviceClient.activate(app.url, 'NOSUCHCODE1', { locale: 'uz-Cyrl' }));
    expect(spent.code).toBe('activation_code_invalid');
    expect(spent.title).toMatch(/[Ѐ-ӿ]/);
  });
});
