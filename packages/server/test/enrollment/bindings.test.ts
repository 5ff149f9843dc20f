import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { BINDING_SMS_WINDOW_MS } from '../../src/enrollment/bindings.ts';
import { renderText } from '../../src/notify/templates.ts';
import { LOCALES } from '../../src/platform/i18n.ts';
import { call, enrollDemo, expectNothingWritten, PUBLIC_URL, registerOperator, startBindingFor, type OperatorSession } from './helpers.ts';

/** Six-digit codes other than `code`, all different. */
function wrongCodes(code: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 1; out.length < n; i++) {
    const guess = String((Number(code) + i * 7919) % 1_000_000).padStart(6, '0');
    if (guess !== code && !out.includes(guess)) out.push(guess);
  }
  return out;
}

describe.each(testDialects())('phone binding by SMS code on %s', (dialect) => {
  let app: TestApp;
  let clock = Date.parse('2026-11-25T08:00:00Z');
  let operator: OperatorSession;
  let supervisor: OperatorSession;

  beforeAll(async () => {
    app = await createTestApp(dialect, { config: { publicUrl: PUBLIC_URL }, now: () => clock });
    operator = await registerOperator(app, 'operator');
    supervisor = await registerOperator(app, 'supervisor');
  });
  afterAll(async () => app?.close());

  const confirm = (citizenId: string, bindingId: string, code: string, query = '') =>
    call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm${query}`, { bindingId, code });
  const citizen = async (citizenId: string) => (await call(app, operator, 'GET', `/api/v1/citizens/${citizenId}`)).json().citizen;
  const binding = (id: string) => app.context.db.selectFrom('phone_bindings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('compares at most three codes however many guesses arrive at once; the right code after them binds nothing', async () => {
    const citizenId = await enrollDemo(app, operator, 10);
    const { bindingId, code } = await startBindingFor(app, operator, citizenId, '+998 90 555 10 10');
    const answers = await Promise.all(wrongCodes(code, 59).map((guess) => confirm(citizenId, bindingId, guess)));
    const codes = answers.map((r) => r.json().code as string);
    expect(codes.filter((c) => c === 'binding_code_wrong')).toHaveLength(2);
    expect(codes.filter((c) => c === 'binding_attempts_exhausted')).toHaveLength(57);
    expect(answers.every((r) => r.statusCode === 400 || r.statusCode === 429)).toBe(true);

    const right = await confirm(citizenId, bindingId, code);
    expect([right.statusCode, right.json().code]).toEqual([429, 'binding_attempts_exhausted']);
    expect(await binding(bindingId)).toMatchObject({ attempts: 3, status: 'pending', active_phone: null });
    const view = await citizen(citizenId);
    expect(view.binding).toBeNull();
    expect(view.pendingBinding).toMatchObject({ id: bindingId, attemptsLeft: 0, state: 'exhausted' });
  });

  it('never compares a fourth code, whichever of a parallel burst is the right one', async () => {
    const citizenId = await enrollDemo(app, operator, 11);
    const { bindingId, code } = await startBindingFor(app, operator, citizenId, '+998 90 555 11 11');
    const burst = [...wrongCodes(code, 20), code];
    const answers = await Promise.all(burst.map((guess) => confirm(citizenId, bindingId, guess)));
    const bound = answers.filter((r) => r.statusCode === 200).length;
    const wrong = answers.filter((r) => r.json().code === 'binding_code_wrong').length;
    expect(bound).toBeLessThanOrEqual(1);
    expect(wrong + bound).toBeLessThanOrEqual(3);
    const row = await binding(bindingId);
    expect(row.attempts).toBeLessThanOrEqual(3);
    // Bound exactly when the right code was among the three compared.
    expect(row.status).toBe(bound === 1 ? 'active' : 'pending');
  });

  it('says when the code expired or ran out of attempts, and a new code replaces it', async () => {
    const citizenId = await enrollDemo(app, operator, 12);
    const first = await startBindingFor(app, operator, citizenId, '+998 91 555 12 12');
    expect((await citizen(citizenId)).pendingBinding).toMatchObject({ id: first.bindingId, state: 'waiting', attemptsLeft: 3 });
    const wrong = wrongCodes(first.code, 1)[0]!;
    const refused = await confirm(citizenId, first.bindingId, wrong, '?lang=ru');
    expect(refused.json()).toMatchObject({ code: 'binding_code_wrong', title: 'Неверный код из СМС; осталось попыток: 2' });
    expect((await citizen(citizenId)).pendingBinding).toMatchObject({ state: 'waiting', attemptsLeft: 2 });

    clock += 10 * 60_000;
    try {
      expect((await citizen(citizenId)).pendingBinding).toMatchObject({ id: first.bindingId, state: 'expired', attemptsLeft: 2 });
      const late = await confirm(citizenId, first.bindingId, first.code);
      expect([late.statusCode, late.json().code]).toEqual([410, 'binding_code_expired']);
      // "Send a new code": the same start again; the stale binding is abandoned.
      const second = await startBindingFor(app, operator, citizenId, '+998 91 555 12 12');
      expect((await citizen(citizenId)).pendingBinding).toMatchObject({ id: second.bindingId, state: 'waiting', attemptsLeft: 3 });
      expect((await binding(first.bindingId)).status).toBe('abandoned');
      expect((await confirm(citizenId, first.bindingId, first.code)).json().code).toBe('binding_not_found');
      // "Change the number": a start with another phone replaces it the same way.
      const third = await startBindingFor(app, operator, citizenId, '+998 20 555 12 12');
      expect((await citizen(citizenId)).pendingBinding).toMatchObject({ id: third.bindingId, phone: '+998205551212', mobileOperator: 'OQ', state: 'waiting' });
      const done = await confirm(citizenId, third.bindingId, third.code);
      expect(done.statusCode, done.body).toBe(200);
      expect(done.json().citizen).toMatchObject({ binding: { phone: '+998205551212', mobileOperator: 'OQ' }, pendingBinding: null });
    } finally {
      clock -= 10 * 60_000;
    }
  });

  it('lets a supervisor send a new re-binding code; the stale one is abandoned and the old phone stays bound meanwhile', async () => {
    const citizenId = await enrollDemo(app, operator, 17);
    const first = await startBindingFor(app, operator, citizenId, '+998 33 555 17 17');
    expect((await confirm(citizenId, first.bindingId, first.code)).statusCode).toBe(200);
    const rebind = (phone: string) => call(app, supervisor, 'POST', `/api/v1/citizens/${citizenId}/rebind`, { phone, reason: 'SIM replaced' });
    const a = await rebind('+998 77 555 17 17');
    const b = await rebind('+998 77 555 17 18');
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect((await binding(a.json().binding.id)).status).toBe('abandoned');
    expect((await citizen(citizenId))).toMatchObject({ binding: { phone: '+998335551717' }, pendingBinding: { id: b.json().binding.id, rebind: true, state: 'waiting' } });
  });

  it('sends at most three codes per citizen and per number in ten minutes, then 429 with retry-after, writing nothing', async () => {
    const a = await enrollDemo(app, operator, 13);
    const b = await enrollDemo(app, operator, 14);
    for (let i = 0; i < 3; i++) await startBindingFor(app, operator, a, `+998 93 555 13 0${i}`);
    const refused = await expectNothingWritten(
      app,
      () => call(app, operator, 'POST', `/api/v1/citizens/${a}/phone-binding?lang=en`, { phone: '+998 93 555 13 09' }),
      429,
      'binding_sms_rate_limited',
    );
    expect(refused.headers['retry-after']).toBe(String(BINDING_SMS_WINDOW_MS / 1000));
    expect(refused.json().title).toBe(`Too many codes were sent to this citizen or number; try again in ${BINDING_SMS_WINDOW_MS / 1000} s`);

    // One number, whoever it is for: two codes for b and one for a to the same phone are its three.
    clock += BINDING_SMS_WINDOW_MS + 1;
    try {
      await startBindingFor(app, operator, b, '+998 94 555 14 14');
      await startBindingFor(app, operator, b, '+998 94 555 14 14');
      await startBindingFor(app, operator, a, '+998 94 555 14 14');
      clock += 60_000;
      const again = await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${b}/phone-binding`, { phone: '+998 94 555 14 14' }), 429, 'binding_sms_rate_limited');
      expect(Number(again.headers['retry-after'])).toBe(BINDING_SMS_WINDOW_MS / 1000 - 60);
      // Another number for b is still within b's own budget of three.
      await startBindingFor(app, operator, b, '+998 94 555 14 15');
      await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${b}/phone-binding`, { phone: '+998 94 555 14 16' }), 429, 'binding_sms_rate_limited');
    } finally {
      clock -= BINDING_SMS_WINDOW_MS + 1 + 60_000;
    }
  });

  it('writes the SMS in the language chosen for the citizen (uz-Latn by default), not the operator\'s', async () => {
    const citizenId = await enrollDemo(app, operator, 15);
    const inEnglishConsole = await app.http.inject({
      method: 'POST',
      url: `/api/v1/citizens/${citizenId}/phone-binding`,
      headers: { cookie: operator.cookie, 'x-tasdiq-csrf': operator.csrf, 'accept-language': 'en' },
      payload: { phone: '+998 95 555 15 15' },
    });
    expect(inEnglishConsole.statusCode, inEnglishConsole.body).toBe(201);
    const outbox = (id: string) => app.context.db.selectFrom('notify_outbox').select(['locale', 'kind']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(await outbox(inEnglishConsole.json().notificationId)).toEqual({ locale: 'uz-Latn', kind: 'enrollment.binding_code' });
    const russian = await startBindingFor(app, operator, citizenId, '+998 95 555 15 15', { smsLanguage: 'ru' });
    expect(await outbox(russian.notificationId)).toMatchObject({ locale: 'ru' });
    const audit = await app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'enrollment.binding_started').where('subject_citizen_id', '=', citizenId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ smsLanguage: 'ru' });
    await expectNothingWritten(app, () => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone: '+998955551515', smsLanguage: 'de' }), 400, 'validation_failed');
    // Whatever the language, the SMS says whom to tell the code and never to share it by phone.
    const warning = { 'uz-Latn': 'Hech kimga telefon orqali aytmang', 'uz-Cyrl': 'Ҳеч кимга телефон орқали айтманг', ru: 'Никому не сообщайте его по телефону', en: 'Never share it by phone' };
    for (const locale of LOCALES) {
      const text = renderText('enrollment.binding_code', locale, { code: '123456', operatorOffice: 'PSC' }).text;
      expect(text, locale).toContain('123456');
      expect(text, locale).toContain('PSC');
      expect(text, locale).toContain(warning[locale]);
    }
  });

  it('answers a refused number with its precise reason in the operator\'s language', async () => {
    const citizenId = await enrollDemo(app, operator, 16);
    const ask = (lang: string) => call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding?lang=${lang}`, { phone: '+998 90 123 45 678' });
    const ru = await expectNothingWritten(app, () => ask('ru'), 400, 'phone_malformed');
    expect(ru.json()).toMatchObject({ title: 'Номер телефона записан неверно', detail: 'В узбекском номере после +998 идут 9 цифр; в этом номере их 10.' });
    expect((await ask('uz-Cyrl')).json().detail).toBe('Ўзбекистон рақамида +998 дан кейин 9 та рақам бўлади; бу рақамда 10 та.');
    expect((await ask('uz-Latn')).json().detail).toBe("O'zbekiston raqamida +998 dan keyin 9 ta raqam bo'ladi; bu raqamda 10 ta.");
    expect((await ask('en')).json().detail).toBe('An Uzbek number has 9 digits after +998; this one has 10.');
  });
});
