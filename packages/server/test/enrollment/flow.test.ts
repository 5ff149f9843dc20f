import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { consumeActivationCode, getActiveBinding } from '../../src/enrollment/index.ts';
import { makePinfl } from '../../src/identity/index.ts';
import { call, expectNothingWritten, expiredDemoCitizen, idCard, PUBLIC_URL, registerOperator, smsCodeFor, validDemoCitizen, type OperatorSession } from './helpers.ts';

describe.each(testDialects())('enrollment flow on %s', (dialect) => {
  let app: TestApp;
  let clock = Date.parse('2026-11-25T08:00:00Z');
  let operator: OperatorSession;
  let supervisor: OperatorSession;

  beforeAll(async () => {
    app = await createTestApp(dialect, { config: { publicUrl: PUBLIC_URL }, now: () => clock });
    operator = await registerOperator(app, 'operator');
    supervisor = await registerOperator(app, 'supervisor', 'notary-tk-01');
  });
  afterAll(async () => app?.close());

  async function enroll(index: number): Promise<string> {
    const person = validDemoCitizen(index);
    const response = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().citizen.id;
  }

  async function bind(citizenId: string, phone: string): Promise<void> {
    const started = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone });
    expect(started.statusCode, started.body).toBe(201);
    const code = await smsCodeFor(app, started.json().notificationId);
    const confirmed = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: started.json().binding.id, code });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
  }

  it('looks up, enrolls, binds a phone with the SMS code and issues an activation code, all audited', async () => {
    const person = validDemoCitizen(0);
    const lookup = await call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: person.pinfl });
    expect(lookup.statusCode, lookup.body).toBe(200);
    expect(lookup.json().citizen).toMatchObject({ id: null, pinfl: person.pinfl, demo: true, birthDate: person.birthDate, enrollment: null });
    const byDocument = await call(app, operator, 'POST', '/api/v1/enrollment/lookup', { document: idCard(person) });
    expect(byDocument.json().citizen.pinfl).toBe(person.pinfl);

    const enrolled = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    const citizen = enrolled.json().citizen;
    expect(citizen.id).toMatch(/^cit_/);
    expect(citizen.enrollment).toMatchObject({ status: 'active', assurance: 'in_person', officeId: 'psc-tk-01', operatorId: operator.operatorId });

    const started = await call(app, operator, 'POST', `/api/v1/citizens/${citizen.id}/phone-binding`, { phone: '90 123 45 67' });
    expect(started.statusCode, started.body).toBe(201);
    expect(started.json().binding).toMatchObject({ phone: '+998901234567', mobileOperator: 'Beeline', attemptsLeft: 3, rebind: false });
    const code = await smsCodeFor(app, started.json().notificationId);
    expect(code).toMatch(/^\d{6}$/);
    const stored = await app.context.db.selectFrom('phone_bindings').selectAll().where('id', '=', started.json().binding.id).executeTakeFirstOrThrow();
    expect(stored.code_hash).not.toContain(code);

    const wrong = code === '000000' ? '000001' : '000000';
    const bad = await call(app, operator, 'POST', `/api/v1/citizens/${citizen.id}/phone-binding/confirm?lang=en`, { bindingId: started.json().binding.id, code: wrong });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'binding_code_wrong', title: 'The SMS code is wrong; attempts left: 2' });

    const confirmed = await call(app, operator, 'POST', `/api/v1/citizens/${citizen.id}/phone-binding/confirm`, { bindingId: started.json().binding.id, code });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json().citizen.binding).toMatchObject({ phone: '+998901234567', status: 'active' });
    expect(confirmed.json().citizen.pendingBinding).toBeNull();

    const issued = await call(app, operator, 'POST', `/api/v1/citizens/${citizen.id}/activation-codes`);
    expect(issued.statusCode, issued.body).toBe(201);
    const activation = issued.json();
    expect(activation.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(activation.activationUri).toBe(`tasdiq://activate?code=${activation.code.replaceAll('-', '')}&server=${encodeURIComponent(PUBLIC_URL)}`);
    expect(activation.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const codeRows = await app.context.db.selectFrom('activation_codes').select('code_hash').execute();
    expect(codeRows.some((r) => r.code_hash.includes(activation.code.replaceAll('-', '')))).toBe(false);

    const binding = await getActiveBinding(app.context.db, citizen.id);
    expect(binding).toMatchObject({ citizenId: citizen.id, phone: '+998901234567', mobileOperator: 'Beeline' });

    const consumed = await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, activation.code.toLowerCase(), clock));
    expect(consumed).toEqual({ citizenId: citizen.id, bindingId: binding!.bindingId, phone: '+998901234567', assurance: 'in_person' });

    const history = await call(app, operator, 'GET', `/api/v1/citizens/${citizen.id}/history`);
    expect(history.statusCode).toBe(200);
    const actions = history.json().items.map((e: { action: string }) => e.action).reverse();
    expect(actions).toEqual(['enrollment.created', 'enrollment.binding_started', 'enrollment.phone_bound', 'enrollment.activation_code_issued']);
    for (const event of history.json().items) {
      expect(event).toMatchObject({ actorType: 'operator', actorId: operator.operatorId, officeId: 'psc-tk-01' });
      expect(JSON.stringify(event)).not.toContain(person.pinfl);
      expect(JSON.stringify(event)).not.toContain('+998901234567');
    }
    const audit = await call(app, operator, 'GET', `/api/v1/audit?citizenId=${citizen.id}&limit=2`);
    expect(audit.json().items).toHaveLength(2);
    expect(audit.json().next).toBe(audit.json().items[1].id);
    const offices = await call(app, operator, 'GET', `/api/v1/citizens/${citizen.id}/offices?lang=en`);
    expect(offices.json().items[0].office).toEqual({ id: 'psc-tk-01', kind: 'public_services_center', name: 'Public Services Center, Tashkent City' });
  });

  it('records the operator\'s reason for look-up, enrollment, binding and code issuance, and a keyed PINFL reference', async () => {
    const person = validDemoCitizen(8);
    const other = validDemoCitizen(9);
    const lookup = (body: object) => call(app, operator, 'POST', '/api/v1/enrollment/lookup', body);
    expect((await lookup({ pinfl: person.pinfl, reason: 'Citizen at the counter' })).statusCode).toBe(200);
    expect((await lookup({ document: idCard(person), reason: 'Citizen at the counter' })).statusCode).toBe(200);
    expect((await lookup({ pinfl: other.pinfl })).statusCode).toBe(200);
    const lookups = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'registry.lookup').orderBy('id', 'desc').limit(3).execute();
    const [third, second, first] = lookups.map((e) => ({ reason: e.reason, subject: e.subject_citizen_id, ref: JSON.parse(e.details).subjectRef as string }));
    expect(first).toMatchObject({ reason: 'Citizen at the counter', subject: null, ref: expect.stringMatching(/^pr1_[A-Za-z0-9_-]{22}$/) });
    // One person, one reference, whether found by PINFL or by document; another person, another.
    expect(second!.ref).toBe(first!.ref);
    expect(third!.ref).not.toBe(first!.ref);
    expect(third!.reason).toBeNull();
    expect(JSON.stringify(lookups)).not.toContain(person.pinfl);

    const enrolled = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person), reason: 'In-person enrollment' });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    expect(enrolled.headers['cache-control']).toBe('no-store');
    const citizenId = enrolled.json().citizen.id as string;
    const started = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998 98 300 00 08', reason: 'Binding the citizen\'s own phone' });
    expect(started.json().binding).toMatchObject({ mobileOperator: 'Mobiuz', state: 'waiting' });
    const code = await smsCodeFor(app, started.json().notificationId);
    await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: started.json().binding.id, code });
    const issued = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`, { reason: 'App set up at the counter' });
    expect(issued.statusCode, issued.body).toBe(201);
    const history = (await call(app, operator, 'GET', `/api/v1/citizens/${citizenId}/history`)).json().items as { action: string; reason: string | null }[];
    expect(history.map((e) => [e.action, e.reason]).reverse()).toEqual([
      ['enrollment.created', 'In-person enrollment'],
      ['enrollment.binding_started', "Binding the citizen's own phone"],
      ['enrollment.phone_bound', null],
      ['enrollment.activation_code_issued', 'App set up at the counter'],
    ]);
    // Reasons are printable text: no control characters, no bidirectional overrides, not blank.
    for (const reason of ['  ', 'a\u0007b', 'invoice\u202Efdp.exe', 'x'.repeat(501)]) {
      await expectNothingWritten(app, () => lookup({ pinfl: other.pinfl, reason }), 400, 'validation_failed');
      await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`, { reason }), 400, 'validation_failed');
    }
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/suspend`, { reason: 'stolen\u0000' }), 400, 'validation_failed');
  });

  it('answers "who looked up this PINFL" for supervisors, from the keyed reference, and audits the search', async () => {
    const person = validDemoCitizen(9);
    const never = validDemoCitizen(10);
    expect((await call(app, supervisor, 'POST', '/api/v1/enrollment/lookup', { document: idCard(person), reason: 'Checking' })).statusCode).toBe(200);
    const search = (pinfl: string, who = supervisor) => call(app, who, 'POST', '/api/v1/audit/lookups', { pinfl, reason: 'Citizen asked who looked them up' });
    const found = await search(person.pinfl);
    expect(found.statusCode, found.body).toBe(200);
    const items = found.json().items as { action: string; actorId: string; officeId: string; subjectCitizenId: string | null; details: { by: string } }[];
    // The earlier test looked this person up by PINFL (operator) without enrolling them; now by document (supervisor).
    expect(items.map((e) => [e.actorId, e.details.by])).toEqual([
      [supervisor.operatorId, 'document'],
      [operator.operatorId, 'pinfl'],
    ]);
    expect(items.every((e) => e.action === 'registry.lookup' && e.subjectCitizenId === null)).toBe(true);
    expect((await search(never.pinfl)).json().items).toEqual([]);
    const searched = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.lookups_searched').orderBy('id', 'desc').limit(2).execute();
    expect(searched.map((e) => [e.actor_id, e.reason, JSON.parse(e.details).found])).toEqual([
      [supervisor.operatorId, 'Citizen asked who looked them up', 0],
      [supervisor.operatorId, 'Citizen asked who looked them up', 2],
    ]);
    expect(JSON.stringify(searched)).not.toContain(person.pinfl);
    await expectNothingWritten(app, () => search(person.pinfl, operator), 403, 'forbidden');
    await expectNothingWritten(app, () => search('1234'), 400, 'pinfl_wrong_length');
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', '/api/v1/audit/lookups', { pinfl: person.pinfl }), 400, 'validation_failed');
  });

  it('answers the bad-input reasons in the operator\'s language', async () => {
    const person = validDemoCitizen(2);
    const wrongCheck = person.pinfl.slice(0, 13) + String((Number(person.pinfl[13]) + 1) % 10);
    const inRussian = await call(app, operator, 'POST', '/api/v1/enrollment/lookup?lang=ru', { pinfl: wrongCheck });
    expect(inRussian.json()).toMatchObject({
      code: 'pinfl_check_digit_mismatch',
      title: 'Неверная контрольная цифра ПИНФЛ',
      detail: `Контрольная (14-я) цифра для этих первых 13 цифр должна быть ${person.pinfl[13]}, а не ${wrongCheck[13]}.`,
    });
    const future = await call(app, operator, 'POST', '/api/v1/enrollment/lookup?lang=en', { pinfl: makePinfl('2027-03-01', 'M', 100, 1) });
    expect(future.json()).toMatchObject({ code: 'pinfl_birth_date_future', detail: 'Digits 1-7 give the birth date 2027-03-01, which is in the future.' });
    const expired = expiredDemoCitizen();
    const card = expired.documents.find((d) => d.kind === 'id_card')!;
    const old = await call(app, operator, 'POST', '/api/v1/enrollment/enrollments?lang=uz-Latn', { pinfl: expired.pinfl, document: idCard(expired) });
    expect(old.json()).toMatchObject({ code: 'document_expired', detail: `ID-kartaning amal qilish muddati ${card.expiresOn} kuni tugagan.` });
    const forbidden = await call(app, operator, 'POST', '/api/v1/citizens/cit_x/suspend?lang=ru', { reason: 'x' });
    expect(forbidden.json()).toMatchObject({ code: 'forbidden', detail: 'Для этого нужна одна из ролей: supervisor, admin.' });
  });

  it('refuses a reused, voided or expired activation code and writes nothing', async () => {
    const citizenId = await enroll(1);
    await bind(citizenId, '+998 93 555 00 11');
    const first = (await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`)).json().code as string;
    const second = (await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`)).json().code as string;
    const voided = await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, first, clock));
    expect(voided).toBeNull();
    expect(await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, second, clock))).not.toBeNull();
    const before = await app.context.db.selectFrom('activation_codes').selectAll().where('citizen_id', '=', citizenId).execute();
    expect(await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, second, clock))).toBeNull();
    expect(await app.context.db.selectFrom('activation_codes').selectAll().where('citizen_id', '=', citizenId).execute()).toEqual(before);

    const third = (await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`)).json().code as string;
    expect(await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, third, clock + 15 * 60_000))).toBeNull();
    expect(await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, 'NOT-A-CODE', clock))).toBeNull();
    expect(await app.context.db.transaction().execute((tx) => consumeActivationCode(tx, third, clock + 15 * 60_000 - 1))).not.toBeNull();
  });

  it('answers every bad input with a 4xx and a stable code, writing nothing', async () => {
    const person = validDemoCitizen(2);
    const wrongCheck = person.pinfl.slice(0, 13) + String((Number(person.pinfl[13]) + 1) % 10);
    const r = await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments?lang=en', { pinfl: wrongCheck, document: idCard(person) }), 400, 'pinfl_check_digit_mismatch');
    expect(r.json().detail).toContain(`should be ${person.pinfl[13]}`);
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: '1234' }), 400, 'pinfl_wrong_length');
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: '3150590001234a' }), 400, 'pinfl_not_digits');
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: '33102900012345' }), 400, 'pinfl_bad_birth_date');

    const expired = expiredDemoCitizen();
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: expired.pinfl, document: idCard(expired) }), 422, 'document_expired');
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(expired) }), 422, 'document_not_of_citizen');

    const citizenId = await enroll(2);
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) }), 409, 'already_enrolled');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998 90 123 45 67' }), 409, 'phone_already_bound');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998 71 200 00 00' }), 400, 'phone_landline');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998 12 345 67 89' }), 400, 'phone_unknown_operator');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: 'call me' }), 400, 'phone_malformed');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`), 409, 'no_active_binding');

    // Roles: an operator may not suspend, revoke, re-bind or invite.
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/suspend`, { reason: 'test' }), 403, 'forbidden');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/revoke`, { reason: 'test' }), 403, 'forbidden');
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/rebind`, { reason: 'lost', phone: '+998901112233' }), 403, 'forbidden');
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/operator/invitations', { name: 'X', role: 'admin', officeId: 'psc-tk-01' }), 403, 'forbidden');
    await expectNothingWritten(app, () => call(app, operator, 'GET', '/api/v1/audit'), 403, 'forbidden');
    // A supervisor needs a reason.
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/suspend`, {}), 400, 'validation_failed');
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/suspend`, { reason: '   ' }), 400, 'validation_failed');
    // Without a session, or without the CSRF header.
    await expectNothingWritten(app, () => call(app, undefined, 'POST', '/api/v1/enrollment/lookup', { pinfl: person.pinfl }), 401, 'unauthorized');
    await expectNothingWritten(
      app,
      () => app.http.inject({ method: 'POST', url: `/api/v1/citizens/${citizenId}/phone-binding`, headers: { cookie: operator.cookie }, payload: { phone: '+998935550099' } }),
      403,
      'csrf_failed',
    );
    await expectNothingWritten(
      app,
      () => app.http.inject({ method: 'POST', url: '/api/v1/enrollment/lookup', headers: { cookie: operator.cookie, 'x-tasdiq-csrf': 'x'.repeat(43) }, payload: { pinfl: person.pinfl } }),
      403,
      'csrf_failed',
    );
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/enrollment/lookup', { pinfl: person.pinfl, extra: 1 }), 400, 'validation_failed');
    await expectNothingWritten(app, () => call(app, operator, 'GET', '/api/v1/citizens/cit_unknown/history'), 404, 'not_found');
    await expectNothingWritten(app, () => call(app, operator, 'GET', '/api/v1/citizens/cit_unknown/offices'), 404, 'not_found');
    await expectNothingWritten(app, () => call(app, operator, 'POST', '/api/v1/citizens/cit_unknown/phone-binding', { phone: '+998901234567' }), 404, 'not_found');
    await expectNothingWritten(app, () => call(app, operator, 'GET', '/api/v1/citizens/not-an-id'), 400, 'validation_failed');
  });

  it('lets only the first of two citizens with a pending binding to one phone complete it', async () => {
    const a = await enroll(6);
    const b = await enroll(7);
    const phone = '+998 88 800 00 08';
    const startA = await call(app, operator, 'POST', `/api/v1/citizens/${a}/phone-binding`, { phone });
    const startB = await call(app, operator, 'POST', `/api/v1/citizens/${b}/phone-binding`, { phone });
    expect([startA.statusCode, startB.statusCode]).toEqual([201, 201]);
    const codeA = await smsCodeFor(app, startA.json().notificationId);
    const codeB = await smsCodeFor(app, startB.json().notificationId);
    const [confirmA, confirmB] = await Promise.all([
      call(app, operator, 'POST', `/api/v1/citizens/${a}/phone-binding/confirm`, { bindingId: startA.json().binding.id, code: codeA }),
      call(app, operator, 'POST', `/api/v1/citizens/${b}/phone-binding/confirm`, { bindingId: startB.json().binding.id, code: codeB }),
    ]);
    const statuses = [confirmA.statusCode, confirmB.statusCode].sort();
    expect(statuses, JSON.stringify([confirmA.json(), confirmB.json()])).toEqual([200, 409]);
    expect([confirmA, confirmB].find((r) => r.statusCode === 409)!.json().code).toBe('phone_already_bound');
    const active = await app.context.db.selectFrom('phone_bindings').select('citizen_id').where('active_phone', '=', '+998888000008').execute();
    expect(active).toHaveLength(1);
    // The loser's binding is still pending and writes nothing when confirmed again.
    const loser = confirmA.statusCode === 409 ? { id: a, start: startA, code: codeA } : { id: b, start: startB, code: codeB };
    await expectNothingWritten(
      app,
      () => call(app, operator, 'POST', `/api/v1/citizens/${loser.id}/phone-binding/confirm`, { bindingId: loser.start.json().binding.id, code: loser.code }),
      409,
      'phone_already_bound',
    );
  });

  it('limits SMS code attempts and lifetime', async () => {
    const citizenId = await enroll(3);
    const started = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998 97 700 00 01' });
    const bindingId = started.json().binding.id;
    const code = await smsCodeFor(app, started.json().notificationId);
    const wrong = code === '111111' ? '222222' : '111111';
    const confirm = (c: string) => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId, code: c });
    expect((await confirm(wrong)).json().code).toBe('binding_code_wrong');
    expect((await confirm(wrong)).json().code).toBe('binding_code_wrong');
    expect((await confirm(wrong)).json().code).toBe('binding_attempts_exhausted');
    const exhausted = await confirm(code);
    expect([exhausted.statusCode, exhausted.json().code]).toEqual([429, 'binding_attempts_exhausted']);

    const again = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998 97 700 00 01' });
    const againCode = await smsCodeFor(app, again.json().notificationId);
    // The earlier pending binding was abandoned by the new start.
    expect((await confirm(code)).json().code).toBe('binding_not_found');
    clock += 10 * 60_000;
    try {
      const late = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: again.json().binding.id, code: againCode });
      expect([late.statusCode, late.json().code]).toEqual([410, 'binding_code_expired']);
    } finally {
      clock -= 10 * 60_000;
    }
  });

  it('suspends, resumes, re-binds after a lost phone, and revokes, with reasons in the audit log', async () => {
    const citizenId = await enroll(4);
    await bind(citizenId, '+998 94 400 00 04');
    const suspended = await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/suspend`, { reason: 'Citizen reported a stolen phone' });
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json().citizen.enrollment.status).toBe('suspended');
    expect(await getActiveBinding(app.context.db, citizenId)).toBeNull();
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`), 409, 'enrollment_not_active');
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/suspend`, { reason: 'again' }), 409, 'enrollment_not_active');
    expect((await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/resume`, { reason: 'Phone found' })).json().citizen.enrollment.status).toBe('active');

    // Re-bind to a new SIM: the old phone stays active until the new code is entered.
    const rebind = await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/rebind`, { reason: 'SIM replaced', phone: '+998 99 900 00 04' });
    expect(rebind.statusCode, rebind.body).toBe(201);
    expect(rebind.json().binding.rebind).toBe(true);
    expect((await getActiveBinding(app.context.db, citizenId))?.phone).toBe('+998944000004');
    const code = await smsCodeFor(app, rebind.json().notificationId);
    const done = await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: rebind.json().binding.id, code });
    expect(done.statusCode, done.body).toBe(200);
    expect((await getActiveBinding(app.context.db, citizenId))?.phone).toBe('+998999000004');
    // The released number can now be bound to someone else.
    const other = await enroll(5);
    await bind(other, '+998 94 400 00 04');

    const revoked = await call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/revoke`, { reason: 'Deceased (registry notice)' });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json().citizen).toMatchObject({ enrollment: { status: 'revoked' }, binding: null });
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/revoke`, { reason: 'again' }), 409, 'not_enrolled');

    const history = (await call(app, supervisor, 'GET', `/api/v1/citizens/${citizenId}/history`)).json().items as { action: string; reason: string | null; officeId: string }[];
    expect(history.map((e) => e.action).reverse()).toEqual([
      'enrollment.created',
      'enrollment.binding_started',
      'enrollment.phone_bound',
      'enrollment.suspended',
      'enrollment.resumed',
      'enrollment.rebind_started',
      'enrollment.phone_rebound',
      'enrollment.revoked',
    ]);
    expect(history[0]).toMatchObject({ reason: 'Deceased (registry notice)', officeId: 'notary-tk-01' });
    const offices = (await call(app, operator, 'GET', `/api/v1/citizens/${citizenId}/offices`)).json().items as { office: { id: string } }[];
    expect(new Set(offices.map((o) => o.office.id))).toEqual(new Set(['psc-tk-01', 'notary-tk-01']));
  });
});
