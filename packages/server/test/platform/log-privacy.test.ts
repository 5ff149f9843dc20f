import 'reflect-metadata';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, SessionClient } from '../../../client/src/index.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';

/**
 * The service logs at its most verbose level through a whole citizen journey (activation,
 * sign-in by PINFL and by phone, confirmation on the phone), and not one personal number,
 * phone number, activation code or session token may appear in what it wrote.
 */
describe.each(testDialects())('logs keep personal data and secrets out on %s', (dialect) => {
  let app: ListeningApp;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });

  beforeAll(async () => {
    app = await listeningApp(dialect, { config: { logLevel: 'trace' }, logDestination: sink });
  });
  afterAll(async () => app?.close());

  it('writes no PINFL, phone, activation code or token during activation and sign-in', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const activationCode = await citizen.activationCode();
    const device = await DeviceClient.activate(app.url, activationCode, { now: app.clock });
    const rp = new SessionClient(app.url);
    const secrets: string[] = [citizen.pinfl, citizen.phone, citizen.phone.slice(1), activationCode, activationCode.replaceAll('-', '')];

    for (const who of [{ pinfl: citizen.pinfl }, { phone: citizen.phone }]) {
      const started = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', reason: 'Kirish', ...who });
      secrets.push(started.sessionToken);
      const waiting = rp.result(started, 10_000);
      const request = (await device.pending())!;
      await device.confirm(request, started.verificationCode!);
      expect(await waiting).toMatchObject({ result: 'OK' });
    }
    // Bad input is logged too; it must be no more revealing.
    await fetch(`${app.url}/api/v1/auth/sessions?pinfl=${citizen.pinfl}&code=${activationCode}`, { method: 'POST' });

    const written = lines.join('');
    expect(lines.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(written, `log contains ${secret.slice(0, 3)}…`).not.toContain(secret);
  });
});
