import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { call, registerOperator, type OperatorSession } from '../enrollment/helpers.ts';
import { sampleRegistration } from './fixtures.ts';

describe.each(testDialects())('relying-party admin API on %s', (dialect) => {
  let app: TestApp;
  let admin: OperatorSession;
  let operator: OperatorSession;
  beforeAll(async () => {
    app = await createTestApp(dialect);
    admin = await registerOperator(app, 'admin');
    operator = await registerOperator(app, 'operator');
  });
  afterAll(() => app.close());

  it('lets an admin register, read, list, disable and enable a client, each change audited', async () => {
    const created = await call(app, admin, 'POST', '/api/v1/admin/clients', sampleRegistration());
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ clientId: 'soliq-portal', status: 'active', subjectType: 'pairwise', sectorIdentifier: 'my.soliq.uz' });

    expect((await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json()).toMatchObject({ clientId: 'soliq-portal' });
    const listed = await call(app, admin, 'GET', '/api/v1/admin/clients?status=active');
    expect(listed.json()).toMatchObject({ items: [{ clientId: 'soliq-portal' }], next: null });

    const disabled = await call(app, admin, 'POST', '/api/v1/admin/clients/soliq-portal/disable');
    expect(disabled.json()).toMatchObject({ status: 'disabled' });
    expect((await call(app, admin, 'POST', '/api/v1/admin/clients/soliq-portal/enable')).json()).toMatchObject({ status: 'active' });

    const audit = await app.context.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'actor_id'])
      .where('action', 'like', 'clients.%')
      .orderBy('at')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['clients.registered', 'clients.disabled', 'clients.enabled']);
    expect(new Set(audit.map((a) => `${a.actor_type}:${a.actor_id}`))).toEqual(new Set([`operator:${admin.operatorId}`]));
  });

  it('answers bad registrations field by field and writes nothing', async () => {
    const before = await app.context.db.selectFrom('relying_parties').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const bad = await call(app, admin, 'POST', '/api/v1/admin/clients', sampleRegistration({ client_id: 'other-rp', redirect_uris: ['http://evil.example/cb'], client_secret: 's' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json()).toMatchObject({ code: 'client_invalid' });
    expect(bad.json().errors.map((e: { field: string; code: string }) => `${e.field}:${e.code}`)).toEqual([
      'client_secret:unknown_field',
      'client_secret:secret_not_supported',
      'redirect_uris.0:url_not_https',
    ]);
    expect((await call(app, admin, 'POST', '/api/v1/admin/clients', sampleRegistration())).json()).toMatchObject({ code: 'client_exists' });
    expect((await call(app, admin, 'POST', '/api/v1/admin/clients/nobody-here/disable')).json()).toMatchObject({ code: 'client_not_found' });
    const after = await app.context.db.selectFrom('relying_parties').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('refuses strangers, operators without the admin role, and state changes without the CSRF header', async () => {
    expect((await call(app, undefined, 'GET', '/api/v1/admin/clients')).statusCode).toBe(401);
    const forbidden = await call(app, operator, 'POST', '/api/v1/admin/clients', sampleRegistration({ client_id: 'sneaky-rp' }));
    expect(forbidden.statusCode).toBe(403);
    const noCsrf = await app.http.inject({ method: 'POST', url: '/api/v1/admin/clients/soliq-portal/disable', headers: { cookie: admin.cookie }, payload: {} });
    expect(noCsrf.statusCode).toBe(403);
    expect((await call(app, admin, 'GET', '/api/v1/admin/clients/soliq-portal')).json()).toMatchObject({ status: 'active' });
  });
});
