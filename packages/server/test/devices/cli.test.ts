import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClient } from '../../../client/src/index.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from './fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../../cli/bin/tasdiq.js');

/** Runs the CLI without blocking this process, which serves the requests it makes. */
function tasdiq(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('tasdiq device (simulator)', () => {
  let app: ListeningApp;
  const dir = mkdtempSync(join(tmpdir(), 'tasdiq-cli-device-'));
  const state = join(dir, 'phone.json');
  beforeAll(async () => {
    app = await listeningApp('sqlite');
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('activates, approves a sign-in with the code choice, fails on a wrong code, reports status', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const activated = await tasdiq('device', 'activate', '--code', await citizen.activationCode(), '--server', app.url, '--state', state);
    expect(activated.stderr).toBe('');
    expect(activated.stdout).toMatch(/activated device dev_/);
    expect(statSync(state).mode & 0o777).toBe(0o600);

    const rp = new SessionClient(app.url);
    const started = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
    const approved = await tasdiq('device', 'approve', '--state', state, '--wait', '5');
    expect(approved.stdout).toContain(`picked: ${started.verificationCode}`);
    expect(approved.status).toBe(0);
    expect((await rp.result(started)).result).toBe('OK');

    const second = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
    const wrongCode = started.verificationCode === '0000' ? '0001' : '0000';
    const wrong = await tasdiq('device', 'approve', '--state', state, '--code', wrongCode);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('auth_wrong_verification_code');
    expect((await rp.result(second)).result).toBe('WRONG_VC');

    // CIBA at a counter: the phone shows the relying party's message; the simulator confirms
    // only the message it was told to expect, as the citizen compares it with the clerk's words.
    const counter = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl, interaction: 'confirmation_message', reason: 'Navbat A-17' });
    const told = await tasdiq('device', 'approve', '--state', state, '--message', 'Navbat A-17');
    expect(told.stdout).toContain('message to confirm: Navbat A-17');
    expect(told.stdout).not.toContain('picked:');
    expect(told.status).toBe(0);
    expect((await rp.result(counter)).result).toBe('OK');
    const spoofed = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl, interaction: 'confirmation_message', reason: 'Navbat B-03' });
    const mismatch = await tasdiq('device', 'approve', '--state', state, '--message', 'Navbat A-17');
    expect(mismatch.stdout).toContain('refused: USER_REFUSED');
    expect((await rp.result(spoofed)).result).toBe('USER_REFUSED');
    const noMessage = await fetch(`${app.url}/api/v1/auth/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl, interaction: 'confirmation_message' }) });
    expect([noMessage.status, ((await noMessage.json()) as { code: string }).code]).toEqual([400, 'auth_confirmation_message_required']);

    // the operator's QR carries a URI naming the code and the server
    const other = await enrollCitizen(app.context.db, app.url, app.clock);
    const uri = `tasdiq://activate?code=${encodeURIComponent(await other.activationCode())}&server=${encodeURIComponent(app.url)}`;
    const byUri = await tasdiq('device', 'activate', '--code', uri, '--state', join(dir, 'second.json'));
    expect(byUri.stdout).toMatch(/activated device dev_/);

    const status = await tasdiq('device', 'status', '--state', state);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'active' });
    const usage = await tasdiq('device', 'approve', '--state', join(dir, 'missing.json'));
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/run 'tasdiq device activate' first/);
    // a damaged state file is said to be one, never a stack trace
    writeFileSync(join(dir, 'damaged.json'), JSON.stringify({ server: app.url, deviceId: 'dev_x' }));
    const damaged = await tasdiq('device', 'status', '--state', join(dir, 'damaged.json'));
    expect(damaged.status).toBe(2);
    expect(damaged.stderr).toMatch(/is not a device state file/);
  });
});
