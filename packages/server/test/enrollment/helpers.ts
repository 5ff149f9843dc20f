import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { inviteOperator } from '../../src/enrollment/index.ts';
import type { OperatorRole } from '../../src/enrollment/schema.ts';
import { demoRegistryCitizens, type RegistryCitizen } from '../../src/identity/index.ts';

export const PUBLIC_URL = 'http://localhost:3000';

export interface OperatorSession {
  readonly operatorId: string;
  readonly cookie: string;
  readonly csrf: string;
  readonly authenticator: SoftAuthenticator;
}

export function cookieFrom(response: LightMyRequestResponse): string {
  const header = response.headers['set-cookie'];
  const value = Array.isArray(header) ? header[0] : header;
  expect(value).toMatch(/^tasdiq_op=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict/);
  return value!.split(';')[0]!;
}

/** Invites an operator (as the CLI does) and registers a passkey through the real API. */
export async function registerOperator(app: TestApp, role: OperatorRole, officeId = 'psc-tk-01'): Promise<OperatorSession> {
  const invitation = await inviteOperator(
    app.context.db,
    { name: `Test ${role}`, role, officeId, createdBy: 'cli', createdByOffice: null, publicUrl: PUBLIC_URL },
    app.context.now(),
  );
  const authenticator = new SoftAuthenticator(PUBLIC_URL);
  const options = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/options', payload: { token: invitation.token } });
  expect(options.statusCode).toBe(200);
  const credential = authenticator.create(options.json().options);
  const verified = await app.http.inject({ method: 'POST', url: '/api/v1/operator/register/verify', payload: { token: invitation.token, response: credential } });
  expect(verified.statusCode, verified.body).toBe(200);
  return { operatorId: invitation.operator.id, cookie: cookieFrom(verified), csrf: verified.json().csrfToken, authenticator };
}

export function call(app: TestApp, session: OperatorSession | undefined, method: 'GET' | 'POST', url: string, payload?: object) {
  return app.http.inject({
    method,
    url,
    headers: session ? { cookie: session.cookie, 'x-tasdiq-csrf': session.csrf } : {},
    ...(payload !== undefined ? { payload } : method === 'POST' ? { payload: {} } : {}),
  });
}

const TABLES = ['citizens', 'identity_documents', 'enrollments', 'phone_bindings', 'activation_codes', 'audit_events', 'notify_outbox', 'operators', 'operator_sessions'] as const;
type CountedTable = (typeof TABLES)[number] | 'devices' | 'device_certificates' | 'operator_passkeys' | 'operator_invitations';

/** Row counts of every table these flows write (and `extra` ones), to prove a refused request wrote nothing. */
export async function rowCounts(app: TestApp, extra: readonly CountedTable[] = []): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [...TABLES, ...extra]) {
    const row = await app.context.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

export async function expectNothingWritten(
  app: TestApp,
  act: () => Promise<LightMyRequestResponse>,
  status: number,
  code: string,
  extra: readonly CountedTable[] = [],
): Promise<LightMyRequestResponse> {
  const before = await rowCounts(app, extra);
  const response = await act();
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json().code).toBe(code);
  expect(await rowCounts(app, extra)).toEqual(before);
  return response;
}

const demo = demoRegistryCitizens();
/** The demo documents are dated from today; the tests' clocks stay within a year of it. */
const today = new Date().toISOString().slice(0, 10);
const inAYear = new Date(Date.now() + 366 * 86_400_000).toISOString().slice(0, 10);

export function validDemoCitizen(index = 0): RegistryCitizen {
  const found = demo.filter((c, i) => i % 10 !== 9 && c.documents.some((d) => d.kind === 'id_card' && d.expiresOn > inAYear));
  return found[index]!;
}

export function expiredDemoCitizen(): RegistryCitizen {
  return demo.find((c) => c.documents.every((d) => d.expiresOn < today))!;
}

export function idCard(citizen: RegistryCitizen) {
  const card = citizen.documents.find((d) => d.kind === 'id_card')!;
  return { series: card.series, number: card.number };
}

/**
 * The SMS code sent for a binding: from the outbox row while it is queued, or, once the notify
 * worker delivered it (and cleared the parameters), from the development inbox.
 */
export async function smsCodeFor(app: TestApp, notificationId: string): Promise<string> {
  const row = await app.context.db.selectFrom('notify_outbox').select(['params', 'kind', 'channel', 'recipient']).where('id', '=', notificationId).executeTakeFirstOrThrow();
  expect(row.kind).toBe('enrollment.binding_code');
  expect(row.channel).toBe('sms');
  const code = (JSON.parse(row.params) as { code?: string }).code;
  if (code) return code;
  for (let i = 0; i < 50; i++) {
    const inbox = await app.http.inject({ method: 'GET', url: `/api/v1/dev/messages?recipient=${encodeURIComponent(row.recipient)}` });
    // Match this very message: two citizens' codes may be on their way to one phone.
    const text = (inbox.json().items as { id: string; text: string }[] | undefined)?.find((m) => m.id === notificationId)?.text;
    const match = text?.match(/\b\d{6}\b/);
    if (match) return match[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('binding code neither in the outbox nor in the dev inbox');
}

/** Enrolls the index-th valid demo citizen through the API and returns the citizen id. */
export async function enrollDemo(app: TestApp, session: OperatorSession, index: number): Promise<string> {
  const person = validDemoCitizen(index);
  const response = await call(app, session, 'POST', '/api/v1/enrollment/enrollments', { pinfl: person.pinfl, document: idCard(person) });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().citizen.id;
}

/** Starts a phone binding through the API; the binding id and the SMS code sent for it. */
export async function startBindingFor(app: TestApp, session: OperatorSession, citizenId: string, phone: string, extra: object = {}): Promise<{ bindingId: string; code: string; notificationId: string }> {
  const started = await call(app, session, 'POST', `/api/v1/citizens/${citizenId}/phone-binding`, { phone, ...extra });
  expect(started.statusCode, started.body).toBe(201);
  const notificationId = started.json().notificationId as string;
  return { bindingId: started.json().binding.id, code: await smsCodeFor(app, notificationId), notificationId };
}
