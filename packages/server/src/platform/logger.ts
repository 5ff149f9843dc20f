import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths pino must never write in clear. Personal data (PINFL, phone numbers, names) is
 * logged only as opaque references by the modules themselves; this list is the safety net.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["dpop"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.code',
  '*.otp',
  '*.pin',
  '*.pinfl',
  '*.phone',
  '*.phoneNumber',
  '*.activationCode',
  '*.privateKey',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'tasdiq' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

/** Query-string keys whose values are secrets; their values are masked in logged URLs. */
const SECRET_QUERY_KEYS = /^(code|token|access_token|id_token|refresh_token|otp|activation_code|client_secret|state|nonce|login_hint|pinfl|phone)$/i;

/** Masks secret query values so request logs can keep the URL shape without the secret. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY_KEYS.test(key)) params.set(key, '[redacted]');
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}
