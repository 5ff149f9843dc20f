import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { inviteOperator } from '../../src/enrollment/index.ts';
import { sessionCookie } from '../../src/enrollment/session.ts';
import { relyingPartyFor } from '../../src/enrollment/webauthn.ts';
import { call, cookieFrom, expectNothingWritten, PUBLIC_URL, registerOperator, type OperatorSession } from './helpers.ts';

describe.each(testDialects())('operator passkey sign-in on %s', (dialect) => {
  let app: TestApp;
  let clock = Date.parse('2026-11-25T08:00:00Z');
  let admin: OperatorSession;

  beforeAll(async () => {
    app = await createTestApp(dialect, { config: { publicUrl: PUBLIC_URL }, now: () => clock });
    admin = await registerOperator(app, 'admin');
  });
  afterAll(async () => app?.close());

  async function signIn(authenticator: SoftAuthenticator, overrides: Parameters<SoftAuthenticator['get']>[1] = {}) {
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    expect(options.statusCode).toBe(200);
    const { challengeId, options: requestOptions } = options.json();
    expect(requestOptions.allowCredentials ?? []).toEqual([]);
    const response = authenticator.get(requestOptions, overrides);
    return { challengeId, response, result: await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/verify', payload: { challengeId, response } }) };
  }

  it('registers a passkey from the one-time link and signs in with it', async () => {
    const session = await call(app, admin, 'GET', '/api/v1/operator/session?lang=en');
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ operator: { role: 'admin', status: 'active', officeId: 'psc-tk-01' }, office: { name: 'Public Services Center, Tashkent City' }, csrfToken: admin.csrf });

    const { result } = await signIn(admin.authenticator);
    expect(result.statusCode, result.body).toBe(200);
    const cookie = cookieFrom(result);
    expect(cookie).not.toBe(admin.cookie);
    const again = await app.http.inject({ method: 'GET', url: '/api/v1/operator/session', headers: { cookie } });
    expect(again.json().operator.id).toBe(admin.operatorId);
    const stored = await app.context.db.selectFrom('operator_sessions').select('token_hash').execute();
    expect(stored.some((s) => cookie.includes(s.token_hash))).toBe(false);
    const audit = await app.context.db.selectFrom('audit_events').select('action').where('actor_id', '=', admin.operatorId).execute();
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['operator.registered', 'operator.signed_in']));
  });

  it('refuses a used challenge, a wrong origin, a forged signature and an unknown passkey', async () => {
    const first = await signIn(admin.authenticator);
    expect(first.result.statusCode).toBe(200);
    const replay = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/verify', payload: { challengeId: first.challengeId, response: first.response } });
    expect([replay.statusCode, replay.json().code]).toEqual([401, 'webauthn_failed']);

    const phishing = await signIn(admin.authenticator, { origin: 'https://tasdiq.example.evil' });
    expect([phishing.result.statusCode, phishing.result.json().code]).toEqual([401, 'webauthn_failed']);
    const forged = await signIn(admin.authenticator, { tamper: true });
    expect([forged.result.statusCode, forged.result.json().code]).toEqual([401, 'webauthn_failed']);

    const stranger = new SoftAuthenticator(PUBLIC_URL);
    stranger.create({ challenge: 'x', rp: { id: 'localhost', name: 'x' }, user: { id: 'AAAA', name: 'x', displayName: 'x' } });
    const unknown = await signIn(stranger);
    expect([unknown.result.statusCode, unknown.result.json().code]).toEqual([401, 'webauthn_failed']);

    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    clock += 5 * 60_000;
    try {
      const late = await app.http.inject({
        method: 'POST',
        url: '/api/v1/operator/auth/verify',
        payload: { challengeId: options.json().challengeId, response: admin.authenticator.get(options.json().options) },
      });
      expect([late.statusCode, late.json().code]).toEqual([401, 'webauthn_failed']);
    } finally {
      clock -= 5 * 60_000;
    }
  });

  it('spends a registration link once and lets it expire after 24 hours', async () => {
    const invitation = await inviteOperator(app.context.db, { name: 'Once', role: 'operator', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: PUBLIC_URL }, clock);
    expect(invitation.registrationUrl).toBe(`${PUBLIC_URL}/console/register?token=${invitation.token}`);
    const authenticator = new SoftAuthenticator(PUBLIC_URL);
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: invitation.token } });
    const credential = authenticator.create(options.json().options);
    expect((await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify', payload: { token: invitation.token, response: credential } })).statusCode).toBe(200);
    await expectNothingWritten(app, () => app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: invitation.token } }), 400, 'invitation_invalid');

    const stale = await inviteOperator(app.context.db, { name: 'Late', role: 'operator', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: PUBLIC_URL }, clock - 24 * 60 * 60_000);
    await expectNothingWritten(app, () => app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: stale.token } }), 400, 'invitation_invalid');
    await expectNothingWritten(app, () => app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: 'nope' } }), 400, 'invitation_invalid');

    const wrongOrigin = await inviteOperator(app.context.db, { name: 'Phished', role: 'operator', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: PUBLIC_URL }, clock);
    const o = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: wrongOrigin.token } });
    const phished = authenticator.create(o.json().options, { origin: 'https://evil.example' });
    const refused = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify', payload: { token: wrongOrigin.token, response: phished } });
    expect([refused.statusCode, refused.json().code]).toEqual([400, 'passkey_registration_failed']);
  });

  it('lets an admin invite and disable operators; a disabled operator cannot sign in', async () => {
    const invited = await call(app, admin, 'POST', '/api/v1/operator/invitations', { name: 'Aziz Demo', role: 'notary', officeId: 'notary-su-01' });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json().operator).toMatchObject({ role: 'notary', officeId: 'notary-su-01', status: 'invited' });
    const token = new URL(invited.json().registrationUrl).searchParams.get('token')!;
    const authenticator = new SoftAuthenticator(PUBLIC_URL);
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token } });
    const verified = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify', payload: { token, response: authenticator.create(options.json().options) } });
    expect(verified.statusCode).toBe(200);
    const notaryCookie = cookieFrom(verified);

    await expectNothingWritten(app, () => call(app, admin, 'POST', '/api/v1/operator/invitations', { name: 'X', role: 'operator', officeId: 'nowhere' }), 400, 'office_unknown');
    const list = await call(app, admin, 'GET', '/api/v1/operator/operators');
    expect(list.json().items.map((o: { name: string }) => o.name)).toContain('Aziz Demo');

    const disabled = await call(app, admin, 'POST', `/api/v1/operator/operators/${invited.json().operator.id}/disable`, { reason: 'Left the office' });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect((await app.http.inject({ method: 'GET', url: '/api/v1/operator/session', headers: { cookie: notaryCookie } })).statusCode).toBe(401);
    const options2 = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    const refused = await app.http.inject({
      method: 'POST',
      url: '/api/v1/operator/auth/verify',
      payload: { challengeId: options2.json().challengeId, response: authenticator.get(options2.json().options) },
    });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'operator_disabled']);
  });

  it('ends sessions on sign-out, after 30 idle minutes and after 12 hours', async () => {
    const a = await signIn(admin.authenticator);
    const cookie = cookieFrom(a.result);
    const csrf = a.result.json().csrfToken;
    const session = () => app.http.inject({ method: 'GET', url: '/api/v1/operator/session', headers: { cookie } });
    clock += 29 * 60_000;
    expect((await session()).statusCode).toBe(200);
    clock += 29 * 60_000;
    expect((await session()).statusCode).toBe(200);
    clock += 31 * 60_000;
    expect((await session()).statusCode).toBe(401);

    const b = await signIn(admin.authenticator);
    const cookieB = cookieFrom(b.result);
    for (let i = 0; i < 25; i++) {
      clock += 29 * 60_000;
      const r = await app.http.inject({ method: 'GET', url: '/api/v1/operator/session', headers: { cookie: cookieB } });
      expect(r.statusCode).toBe(i < 24 ? 200 : 401);
    }

    const c = await signIn(admin.authenticator);
    const out = await app.http.inject({ method: 'POST', url: '/api/v1/operator/sign-out', headers: { cookie: cookieFrom(c.result), 'x-tasdiq-csrf': c.result.json().csrfToken }, payload: {} });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toContain('Max-Age=0');
    expect((await app.http.inject({ method: 'GET', url: '/api/v1/operator/session', headers: { cookie: cookieFrom(c.result) } })).statusCode).toBe(401);
    expect(csrf).not.toBe(c.result.json().csrfToken);
  });

  it('asks for user verification and refuses a passkey answer without it, at registration and at sign-in', async () => {
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    expect(options.json().options.userVerification).toBe('required');
    const before = await app.context.db.selectFrom('audit_events').select('id').where('action', '=', 'operator.sign_in_failed').execute();
    const unverified = await signIn(admin.authenticator, { userVerified: false });
    expect([unverified.result.statusCode, unverified.result.json().code]).toEqual([401, 'webauthn_failed']);
    expect(unverified.result.headers['set-cookie']).toBeUndefined();
    const failures = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'operator.sign_in_failed').orderBy('id').execute();
    expect(failures).toHaveLength(before.length + 1);
    expect(failures.at(-1)).toMatchObject({ actor_type: 'operator', actor_id: admin.operatorId, office_id: 'psc-tk-01' });
    expect(JSON.parse(failures.at(-1)!.details)).toMatchObject({ why: 'not_verified', error: expect.stringMatching(/user.*verif/i) });

    const invitation = await inviteOperator(app.context.db, { name: 'No UV', role: 'operator', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: PUBLIC_URL }, clock);
    const registration = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: invitation.token } });
    expect(registration.json().options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    const credential = new SoftAuthenticator(PUBLIC_URL).create(registration.json().options, { userVerified: false });
    const refused = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify?lang=ru', payload: { token: invitation.token, response: credential } });
    expect([refused.statusCode, refused.json().code]).toEqual([400, 'passkey_registration_failed']);
    expect(refused.json().detail).toMatch(/проверк/);
    expect((await app.context.db.selectFrom('operators').select('status').where('id', '=', invitation.operator.id).executeTakeFirstOrThrow()).status).toBe('invited');
  });

  it('audits a sign-in with an unknown passkey against nobody, and tells why in the reader\'s language', async () => {
    const stranger = new SoftAuthenticator(PUBLIC_URL);
    stranger.create({ challenge: 'x', rp: { id: 'localhost', name: 'x' }, user: { id: 'AAAA', name: 'x', displayName: 'x' } });
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    const response = stranger.get(options.json().options);
    const refused = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/verify?lang=uz-Cyrl', payload: { challengeId: options.json().challengeId, response } });
    expect(refused.json()).toMatchObject({ code: 'webauthn_failed', title: 'Калит орқали кириш амалга ошмади', detail: 'Бу кириш калити рўйхатдан ўтказилмаган.' });
    const last = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'operator.sign_in_failed').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(last).toMatchObject({ actor_type: 'system', actor_id: 'unknown', office_id: null });
    expect(JSON.parse(last.details)).toEqual({ why: 'unknown_passkey' });
  });

  it('answers malformed WebAuthn JSON with 400 validation_failed before anything runs, never 500', async () => {
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    const good = admin.authenticator.get(options.json().options);
    const challengeId = options.json().challengeId as string;
    const variants: Array<[string, unknown]> = [
      ['id as an object', { ...good, id: { $ne: null } }],
      ['id not base64url', { ...good, id: 'a+b/c=' }],
      ['id far too long', { ...good, id: 'A'.repeat(5000) }],
      ['rawId missing', { ...good, rawId: undefined }],
      ['type other than public-key', { ...good, type: 'password' }],
      ['response null with a known credential id', { ...good, response: null }],
      ['response a string', { ...good, response: 'x' }],
      ['signature missing', { ...good, response: { ...good.response, signature: undefined } }],
      ['userHandle as an object', { ...good, response: { ...good.response, userHandle: {} } }],
      ['userHandle null', { ...good, response: { ...good.response, userHandle: null } }],
      ['an extra field in response', { ...good, response: { ...good.response, attestationObject: 'AAAA' } }],
      ['an extra top-level field', { ...good, extra: true }],
      ['clientExtensionResults missing', { ...good, clientExtensionResults: undefined }],
      ['clientExtensionResults an array', { ...good, clientExtensionResults: [] }],
      ['authenticatorAttachment unknown', { ...good, authenticatorAttachment: 'usb' }],
    ];
    for (const [what, response] of variants) {
      const sent = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/verify', payload: { challengeId, response: JSON.parse(JSON.stringify(response)) } });
      expect([what, sent.statusCode]).toEqual([what, 400]);
      const answer = await expectNothingWritten(
        app,
        () => app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/verify', payload: { challengeId, response: JSON.parse(JSON.stringify(response)) } }),
        400,
        'validation_failed',
        ['operator_passkeys'],
      );
      expect(answer.json().errors?.[0]?.field, what).toMatch(/^body\.response/);
    }
    // The challenge was never taken by a malformed answer: the good one still signs in with it.
    const signed = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/verify', payload: { challengeId, response: good } });
    expect(signed.statusCode, signed.body).toBe(200);
    // Schema coercion reads a numeric id as the string "42": an unknown passkey, not a crash.
    const next = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    const numeric = await app.http.inject({
      method: 'POST',
      url: '/api/v1/operator/auth/verify',
      payload: { challengeId: next.json().challengeId, response: { ...admin.authenticator.get(next.json().options), id: 42 } },
    });
    expect([numeric.statusCode, numeric.json().code]).toEqual([401, 'webauthn_failed']);

    const invitation = await inviteOperator(app.context.db, { name: 'Typed', role: 'operator', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: PUBLIC_URL }, clock);
    const creation = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: invitation.token } });
    const credential = new SoftAuthenticator(PUBLIC_URL).create(creation.json().options);
    for (const [what, response] of [
      ['attestationObject an object', { ...credential, response: { ...credential.response, attestationObject: { fmt: 'none' } } }],
      ['transports with an unknown transport', { ...credential, response: { ...credential.response, transports: ['carrier-pigeon'] } }],
      ['response null', { ...credential, response: null }],
      ['id as an array', { ...credential, id: ['x', 'y'] }],
      ['credProps.rk a string', { ...credential, clientExtensionResults: { credProps: { rk: 'yes' } } }],
    ] as const) {
      const answer = await expectNothingWritten(
        app,
        () => app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify', payload: { token: invitation.token, response } }),
        400,
        'validation_failed',
        ['operator_passkeys', 'operator_invitations'],
      );
      expect(answer.json().errors?.[0]?.field, what).toMatch(/^body\.response/);
    }
    const registered = await app.http.inject({
      method: 'POST',
      url: '/api/v1/operator/register/verify',
      payload: { token: invitation.token, response: { ...credential, clientExtensionResults: { credProps: { rk: true } } } },
    });
    expect(registered.statusCode, registered.body).toBe(200);
  });

  /** The admin signed in anew (the session test above moved the clock past the first session). */
  async function freshAdmin(): Promise<OperatorSession> {
    const { result } = await signIn(admin.authenticator);
    expect(result.statusCode, result.body).toBe(200);
    return { ...admin, cookie: cookieFrom(result), csrf: result.json().csrfToken };
  }

  it('keeps an admin from disabling or re-inviting themselves', async () => {
    const admin = await freshAdmin();
    await expectNothingWritten(app, () => call(app, admin, 'POST', `/api/v1/operator/operators/${admin.operatorId}/disable`, { reason: 'oops' }), 409, 'operator_self_change');
    await expectNothingWritten(app, () => call(app, admin, 'POST', `/api/v1/operator/operators/${admin.operatorId}/reinvite`, { reason: 'oops' }), 409, 'operator_self_change');
    expect((await call(app, admin, 'GET', '/api/v1/operator/session')).statusCode).toBe(200);
  });

  it('re-invites an operator who lost their passkey: old passkey and sessions gone, a new passkey from the new link', async () => {
    const admin = await freshAdmin();
    const lost = await registerOperator(app, 'operator');
    const reinvited = await call(app, admin, 'POST', `/api/v1/operator/operators/${lost.operatorId}/reinvite`, { reason: 'Phone with the passkey stolen' });
    expect(reinvited.statusCode, reinvited.body).toBe(201);
    expect(reinvited.headers['cache-control']).toBe('no-store');
    expect(reinvited.json().operator).toMatchObject({ id: lost.operatorId, status: 'invited' });
    expect((await call(app, lost, 'GET', '/api/v1/operator/session')).statusCode).toBe(401);
    const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} });
    const old = await app.http.inject({
      method: 'POST',
      url: '/api/v1/operator/auth/verify',
      payload: { challengeId: options.json().challengeId, response: lost.authenticator.get(options.json().options) },
    });
    expect([old.statusCode, old.json().code]).toEqual([401, 'webauthn_failed']);

    const token = new URL(reinvited.json().registrationUrl).searchParams.get('token')!;
    const fresh = new SoftAuthenticator(PUBLIC_URL);
    const creation = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token } });
    const done = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify', payload: { token, response: fresh.create(creation.json().options) } });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().operator).toMatchObject({ id: lost.operatorId, status: 'active' });
    const { result } = await signIn(fresh);
    expect(result.statusCode).toBe(200);
    const audit = await app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'operator.reinvited').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_id: admin.operatorId, reason: 'Phone with the passkey stolen' });
    expect(JSON.parse(audit.details)).toEqual({ operatorId: lost.operatorId, passkeysRemoved: 1 });

    // A disabled operator stays disabled; only admins re-invite.
    await call(app, admin, 'POST', `/api/v1/operator/operators/${lost.operatorId}/disable`, { reason: 'Left' });
    await expectNothingWritten(app, () => call(app, admin, 'POST', `/api/v1/operator/operators/${lost.operatorId}/reinvite`, { reason: 'again' }), 403, 'operator_disabled');
    const supervisor = await registerOperator(app, 'supervisor');
    await expectNothingWritten(app, () => call(app, supervisor, 'POST', `/api/v1/operator/operators/${lost.operatorId}/reinvite`, { reason: 'x' }), 403, 'forbidden');
  });

  it('keeps session answers and invitation links out of caches', async () => {
    const admin = await freshAdmin();
    const session = await call(app, admin, 'GET', '/api/v1/operator/session');
    expect(session.headers['cache-control']).toBe('no-store');
    const invited = await call(app, admin, 'POST', '/api/v1/operator/invitations', { name: 'Cache Test', role: 'operator', officeId: 'psc-tk-01' });
    expect(invited.headers['cache-control']).toBe('no-store');
    const { result } = await signIn(admin.authenticator);
    expect(result.headers['cache-control']).toBe('no-store');
  });

  it('runs the console at localhost when published on a loopback IP (browsers refuse IP RP IDs)', () => {
    expect(relyingPartyFor('http://127.0.0.1:3000')).toEqual({ id: 'localhost', origin: 'http://localhost:3000', name: 'Tasdiq operator console' });
    expect(relyingPartyFor('https://id.tasdiq.example')).toMatchObject({ id: 'id.tasdiq.example', origin: 'https://id.tasdiq.example' });
  });

  it('marks the cookie Secure for an https public URL', () => {
    expect(sessionCookie('t'.repeat(43), true)).toMatch(/; Secure$/);
    expect(sessionCookie('t'.repeat(43), false)).not.toContain('Secure');
  });
});

describe('sign-in ceremony rate limit', () => {
  it('refuses a stranger hammering the ceremony with 429 rate_limited', async () => {
    const app = await createTestApp('sqlite', { config: { publicUrl: PUBLIC_URL, rateLimitPerMinute: 100 } });
    try {
      const answers = [];
      for (let i = 0; i < 31; i++) answers.push(await app.http.inject({ method: 'POST', url: '/api/v1/operator/auth/options', payload: {} }));
      expect(answers.slice(0, 30).every((r) => r.statusCode === 200)).toBe(true);
      expect([answers[30]!.statusCode, answers[30]!.json().code]).toEqual([429, 'rate_limited']);
    } finally {
      await app.close();
    }
  });
});
