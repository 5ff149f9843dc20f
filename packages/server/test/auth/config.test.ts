import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionClient } from '../../../client/src/index.ts';
import { ConfigError } from '../../src/platform/config.ts';
import { DEFAULT_POLICY, loadAuthPolicy } from '../../src/auth/index.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from '../devices/fixtures.ts';
import { DeviceClient } from '../../../client/src/index.ts';

const BIN = resolve(import.meta.dirname, '../../../cli/bin/tasdiq.js');

describe('sign-in policy settings (TASDIQ_AUTH_*)', () => {
  it('are the defaults when unset, and each can be set', () => {
    expect(loadAuthPolicy({})).toEqual(DEFAULT_POLICY);
    expect(
      loadAuthPolicy({
        TASDIQ_AUTH_APP_TTL_SECONDS: '90',
        TASDIQ_AUTH_OTP_TTL_SECONDS: '180',
        TASDIQ_AUTH_OTP_MAX_ATTEMPTS: '5',
        TASDIQ_AUTH_COOLDOWN_AFTER: '4',
        TASDIQ_AUTH_COOLDOWN_WINDOW_SECONDS: '1200',
        TASDIQ_AUTH_OTP_PER_PHONE: '2',
        TASDIQ_AUTH_OTP_PER_PHONE_WINDOW_SECONDS: '3600',
        TASDIQ_AUTH_OTP_PER_CLIENT_PER_MINUTE: '100',
        TASDIQ_AUTH_RETENTION_HOURS: '48',
        TASDIQ_AUTH_PUSH_FALLBACK_SECONDS: '20',
      }),
    ).toEqual({
      appTtlMs: 90_000,
      otpTtlMs: 180_000,
      otpMaxAttempts: 5,
      cooldownAfter: 4,
      cooldownWindowMs: 1_200_000,
      otpPerPhone: 2,
      otpPerPhoneWindowMs: 3_600_000,
      otpPerClientPerMinute: 100,
      retentionMs: 172_800_000,
      pushFallbackAfterMs: 20_000,
    });
  });

  it('lists every bad value at once, including a fallback SMS that would come after the request expired', () => {
    let error: unknown;
    try {
      loadAuthPolicy({ TASDIQ_AUTH_APP_TTL_SECONDS: '5', TASDIQ_AUTH_OTP_MAX_ATTEMPTS: 'three', TASDIQ_AUTH_PUSH_FALLBACK_SECONDS: '200' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'TASDIQ_AUTH_APP_TTL_SECONDS: expected an integer from 30 to 600, got "5"',
      'TASDIQ_AUTH_OTP_MAX_ATTEMPTS: expected an integer from 1 to 10, got "three"',
      'TASDIQ_AUTH_PUSH_FALLBACK_SECONDS: must be shorter than TASDIQ_AUTH_APP_TTL_SECONDS (120), got 200',
    ]);
  });

  it('a bad value stops `tasdiq serve` with the problem named', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-auth-config-'));
    const result = spawnSync(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: { ...process.env, TASDIQ_DATA_DIR: dataDir, DATABASE_URL: '', TASDIQ_DEVELOPMENT: '1', TASDIQ_AUTH_OTP_TTL_SECONDS: '5000' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('TASDIQ_AUTH_OTP_TTL_SECONDS: expected an integer from 60 to 900, got "5000"');
  });

  describe('take effect in the service', () => {
    let app: ListeningApp | undefined;
    afterEach(async () => {
      delete process.env.TASDIQ_AUTH_APP_TTL_SECONDS;
      await app?.close();
    });

    it('a request lives as long as TASDIQ_AUTH_APP_TTL_SECONDS says', async () => {
      process.env.TASDIQ_AUTH_APP_TTL_SECONDS = '45';
      app = await listeningApp('sqlite');
      const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
      await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
      const before = app.clock();
      const started = await new SessionClient(app.url).start({ serviceId: 'my.gov.uz', serviceName: 'Davlat xizmatlari portali', pinfl: citizen.pinfl });
      expect(started.expiresAt - before).toBeGreaterThanOrEqual(45_000);
      expect(started.expiresAt - before).toBeLessThan(46_000);
    });
  });
});
