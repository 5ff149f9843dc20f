import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { loadNotifyConfig } from '../../src/notify/config.ts';

describe('notify configuration', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const base = (development: boolean) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-notify-config-'));
    dirs.push(dataDir);
    return loadConfig({}, { dataDir, development });
  };

  it('reads SMSC routes and picks SMPP for SMS', () => {
    const config = loadNotifyConfig(base(false), {
      TASDIQ_SMPP_ROUTES: JSON.stringify([{ name: 'ucell', host: 'smsc.example', systemId: 'tasdiq', password: 'pw', prefixes: ['+99893'], ratePerSecond: 30 }]),
    });
    expect(config.sms).toBe('smpp');
    expect(config.smppRoutes[0]).toMatchObject({ name: 'ucell', port: 2775, mode: 'transceiver', windowSize: 10, ratePerSecond: 30, prefixes: ['+99893'] });
    expect(config.vapid).toBeUndefined();
  });

  it('lists every bad setting at once', () => {
    let error: unknown;
    try {
      loadNotifyConfig(base(false), {
        TASDIQ_SMPP_ROUTES: JSON.stringify([{ name: 'Bad Name', host: '', systemId: 'x', password: 'far-too-long', prefixes: ['99890'], mode: 'receiver', colour: 1 }]),
        TASDIQ_OUTBOX_BATCH: '0',
        TASDIQ_SMS_CHANNEL: 'dev',
        TASDIQ_APNS_TEAM_ID: 'T',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const expected of ['unknown key "colour"', '.name:', '.host: required', '.password:', '.prefixes:', '.mode:', 'TASDIQ_OUTBOX_BATCH', 'development only', 'APNs:']) {
      expect(problems).toContain(expected);
    }
    expect(() => loadNotifyConfig(base(false), { TASDIQ_SMPP_ROUTES: '[{' })).toThrow('not JSON');
  });

  it('uses the dev inbox in development only, and generates stable VAPID keys with mode 0600', () => {
    const dev = base(true);
    const first = loadNotifyConfig(dev, {});
    expect(first.sms).toBe('dev');
    expect(first.vapid?.publicKey).toMatch(/^[A-Za-z0-9_-]{80,}$/);
    expect(statSync(join(dev.dataDir, 'vapid.json')).mode & 0o777).toBe(0o600);
    expect(loadNotifyConfig(dev, {}).vapid).toEqual(first.vapid);
    expect(loadNotifyConfig(base(false), {}).sms).toBe('none');
    expect(loadNotifyConfig(dev, { TASDIQ_OUTBOX_WORKER: '0' }).worker.enabled).toBe(false);
  });
});
