import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { loadNotifyConfig, webPushPolicy } from '../../src/notify/config.ts';
import { DEFAULT_WEBPUSH_HOSTS } from '../../src/notify/push-targets.ts';

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

  const problemsOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.join('\n');
      throw error;
    }
    return '';
  };

  it('wants https for the SMS gateway outside development, where one-time codes travel', () => {
    expect(problemsOf(() => loadNotifyConfig(base(false), { TASDIQ_SMS_HTTP_URL: 'http://sms.example/send' }))).toContain('TASDIQ_SMS_HTTP_URL: expected an https URL outside development');
    expect(loadNotifyConfig(base(false), { TASDIQ_SMS_HTTP_URL: 'https://sms.example/send' }).httpSms?.url).toBe('https://sms.example/send');
    expect(loadNotifyConfig(base(true), { TASDIQ_SMS_HTTP_URL: 'http://127.0.0.1:9999/send' }).sms).toBe('http');
  });

  it('lists the push services Web Push may reach, loopback only in development or when listed', () => {
    expect(loadNotifyConfig(base(false), {}).webPush).toEqual({ hosts: DEFAULT_WEBPUSH_HOSTS, allowLoopback: false });
    expect(DEFAULT_WEBPUSH_HOSTS).toEqual(['fcm.googleapis.com', '*.push.apple.com', 'updates.push.services.mozilla.com', '*.notify.windows.com']);
    expect(loadNotifyConfig(base(true), {}).webPush.allowLoopback).toBe(true);
    expect(loadNotifyConfig(base(false), { TASDIQ_WEBPUSH_HOSTS: ' FCM.googleapis.com, 127.0.0.1 ,*.push.apple.com' }).webPush).toEqual({
      hosts: ['fcm.googleapis.com', '127.0.0.1', '*.push.apple.com'],
      allowLoopback: false,
    });
    const problems = problemsOf(() => loadNotifyConfig(base(false), { TASDIQ_WEBPUSH_HOSTS: 'https://fcm.googleapis.com,push.example:443,*.,a/b' }));
    for (const bad of ['"https://fcm.googleapis.com"', '"push.example:443"', '"*."', '"a/b"']) expect(problems).toContain(bad);
    expect(problemsOf(() => webPushPolicy(base(false), { TASDIQ_WEBPUSH_HOSTS: 'x y' }))).toContain('TASDIQ_WEBPUSH_HOSTS');
    expect(webPushPolicy(base(false), {})).toEqual({ hosts: DEFAULT_WEBPUSH_HOSTS, allowLoopback: false });
  });

  it('checks configured VAPID keys, and the worker metrics port', () => {
    const problems = problemsOf(() => loadNotifyConfig(base(false), { TASDIQ_VAPID_PUBLIC_KEY: 'AAAA', TASDIQ_VAPID_PRIVATE_KEY: 'not base64!' }));
    expect(problems).toContain('TASDIQ_VAPID_PUBLIC_KEY: expected an uncompressed P-256 public key');
    expect(problems).toContain('TASDIQ_VAPID_PRIVATE_KEY: expected a 32-byte');
    expect(loadNotifyConfig(base(false), { TASDIQ_WORKER_METRICS_PORT: '9464' }).worker).toMatchObject({ metricsPort: 9464, metricsHost: '127.0.0.1' });
    expect(loadNotifyConfig(base(false), {}).worker.metricsPort).toBeUndefined();
    expect(problemsOf(() => loadNotifyConfig(base(false), { TASDIQ_WORKER_METRICS_PORT: '70000' }))).toContain('TASDIQ_WORKER_METRICS_PORT');
  });
});
