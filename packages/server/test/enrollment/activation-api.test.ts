import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationMessage, generateDeviceKey, signES256 } from '../../../client/src/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { ACTIVATION_CODE_LIFETIME_MS } from '../../src/enrollment/activation.ts';
import { call, enrollDemo, expectNothingWritten, PUBLIC_URL, registerOperator, startBindingFor, type OperatorSession } from './helpers.ts';

/** What the app posts to redeem a code: two fresh P-256 keys, each proving possession over the code. */
async function activationBody(code: string) {
  const authKey = await generateDeviceKey();
  const signKey = await generateDeviceKey();
  const message = activationMessage(code, authKey.spki, signKey.spki);
  return { activationCode: code, authKey: authKey.spki, signKey: signKey.spki, authProof: await signES256(authKey, message), signProof: await signES256(signKey, message) };
}

/** The activation codes of the enrollment API, redeemed through the devices API as the app does. */
describe.each(testDialects())('activation codes through POST /api/v1/device/activate on %s', (dialect) => {
  let app: TestApp;
  let clock = Date.parse('2026-11-25T08:00:00Z');
  let operator: OperatorSession;
  let citizenId = '';

  beforeAll(async () => {
    app = await createTestApp(dialect, { config: { publicUrl: PUBLIC_URL }, now: () => clock });
    operator = await registerOperator(app, 'operator');
    citizenId = await enrollDemo(app, operator, 20);
    const { bindingId, code } = await startBindingFor(app, operator, citizenId, '+998 90 777 20 20');
    expect((await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId, code })).statusCode).toBe(200);
  });
  afterAll(async () => app?.close());

  const issue = async () => {
    const issued = await call(app, operator, 'POST', `/api/v1/citizens/${citizenId}/activation-codes`, { reason: 'App set up at the counter' });
    expect(issued.statusCode, issued.body).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    return issued.json().code as string;
  };
  const activate = async (body: object) => app.http.inject({ method: 'POST', url: '/api/v1/device/activate', payload: body });
  const DEVICE_TABLES = ['devices', 'device_certificates'] as const;

  it('activates once; the same code again is refused and writes nothing', async () => {
    const code = await issue();
    const first = await activate(await activationBody(code));
    expect(first.statusCode, first.body).toBe(201);
    const second = await activationBody(code);
    await expectNothingWritten(app, () => activate(second), 400, 'activation_code_invalid', DEVICE_TABLES);
    // Spelled as a person might type it: still the same spent code.
    await expectNothingWritten(app, async () => activate(await activationBody(code.toLowerCase())), 400, 'activation_code_invalid', DEVICE_TABLES);
    const spent = await app.context.db.selectFrom('activation_codes').select(['used_at']).where('citizen_id', '=', citizenId).where('used_at', 'is not', null).execute();
    expect(spent).toHaveLength(1);
  });

  it('refuses an expired code and writes nothing; a moment earlier it would have worked', async () => {
    const code = await issue();
    const body = await activationBody(code);
    const codes = () => app.context.db.selectFrom('activation_codes').selectAll().where('citizen_id', '=', citizenId).orderBy('id').execute();
    clock += ACTIVATION_CODE_LIFETIME_MS;
    try {
      const before = await codes();
      await expectNothingWritten(app, () => activate(body), 400, 'activation_code_invalid', DEVICE_TABLES);
      // Not even the code's own row changed: an expired code is not spent by trying it.
      expect(await codes()).toEqual(before);
    } finally {
      clock -= ACTIVATION_CODE_LIFETIME_MS;
    }
    clock += ACTIVATION_CODE_LIFETIME_MS - 1;
    try {
      const inTime = await activate(body);
      expect(inTime.statusCode, inTime.body).toBe(201);
    } finally {
      clock -= ACTIVATION_CODE_LIFETIME_MS - 1;
    }
  });

  it('refuses a code voided by a newer one, and an unknown code, writing nothing', async () => {
    const older = await issue();
    await issue();
    await expectNothingWritten(app, async () => activate(await activationBody(older)), 400, 'activation_code_invalid', DEVICE_TABLES);
    await expectNothingWritten(app, async () => activate(await activationBody('ZZZZ-ZZZZ-ZZZZ-ZZZZ')), 400, 'activation_code_invalid', DEVICE_TABLES);
  });
});
