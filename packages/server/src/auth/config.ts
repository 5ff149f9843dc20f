import { ConfigError, integerSetting } from '../platform/config.ts';
import { DEFAULT_POLICY, type AuthPolicy } from './service.ts';

/**
 * The sign-in rules an operator may tune (docs/device-protocol.md lists them), from the
 * environment: how long a request and an SMS code live, how many wrong codes and refusals are
 * allowed, how many SMS codes a phone and a service may ask for, how long completed sessions
 * are kept. Every bad value is reported at once, as the core settings are.
 */
export function loadAuthPolicy(env: NodeJS.ProcessEnv = process.env): AuthPolicy {
  const problems: string[] = [];
  const seconds = (name: string, fallbackMs: number, min: number, max: number) => integerSetting(env, name, fallbackMs / 1000, min, max, problems) * 1000;
  const policy: AuthPolicy = {
    appTtlMs: seconds('TASDIQ_AUTH_APP_TTL_SECONDS', DEFAULT_POLICY.appTtlMs, 30, 600),
    otpTtlMs: seconds('TASDIQ_AUTH_OTP_TTL_SECONDS', DEFAULT_POLICY.otpTtlMs, 60, 900),
    otpMaxAttempts: integerSetting(env, 'TASDIQ_AUTH_OTP_MAX_ATTEMPTS', DEFAULT_POLICY.otpMaxAttempts, 1, 10, problems),
    cooldownAfter: integerSetting(env, 'TASDIQ_AUTH_COOLDOWN_AFTER', DEFAULT_POLICY.cooldownAfter, 1, 50, problems),
    cooldownWindowMs: seconds('TASDIQ_AUTH_COOLDOWN_WINDOW_SECONDS', DEFAULT_POLICY.cooldownWindowMs, 60, 86_400),
    otpPerPhone: integerSetting(env, 'TASDIQ_AUTH_OTP_PER_PHONE', DEFAULT_POLICY.otpPerPhone, 1, 50, problems),
    otpPerPhoneWindowMs: seconds('TASDIQ_AUTH_OTP_PER_PHONE_WINDOW_SECONDS', DEFAULT_POLICY.otpPerPhoneWindowMs, 60, 86_400),
    otpPerClientPerMinute: integerSetting(env, 'TASDIQ_AUTH_OTP_PER_CLIENT_PER_MINUTE', DEFAULT_POLICY.otpPerClientPerMinute, 1, 1_000_000, problems),
    retentionMs: integerSetting(env, 'TASDIQ_AUTH_RETENTION_HOURS', DEFAULT_POLICY.retentionMs / 3_600_000, 1, 8_760, problems) * 3_600_000,
    pushFallbackAfterMs: seconds('TASDIQ_AUTH_PUSH_FALLBACK_SECONDS', DEFAULT_POLICY.pushFallbackAfterMs, 5, 590),
  };
  // The "open the app" SMS must go while the request can still be confirmed.
  if (policy.pushFallbackAfterMs >= policy.appTtlMs) {
    problems.push(`TASDIQ_AUTH_PUSH_FALLBACK_SECONDS: must be shorter than TASDIQ_AUTH_APP_TTL_SECONDS (${policy.appTtlMs / 1000}), got ${policy.pushFallbackAfterMs / 1000}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return policy;
}
