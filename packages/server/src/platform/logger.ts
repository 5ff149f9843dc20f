import { pino, type Bindings, type ChildLoggerOptions, type Level, type Logger, type LoggerOptions } from 'pino';
import type { FastifyBaseLogger } from 'fastify';

export type { Logger };

export const CENSORED = '[redacted]';

/**
 * Keys whose values pino must never write in clear, at any depth. Personal data (PINFL, phone
 * numbers, names) is logged only as opaque references by the modules themselves; this is the
 * safety net. Keys are compared case- and separator-insensitively (`session_token`,
 * `sessionToken` and `Session-Token` are one key).
 */
const SECRET_KEYS = new Set(
  [
    'password',
    'passwd',
    'passphrase',
    'secret',
    'authorization',
    'proxy_authorization',
    'cookie',
    'set_cookie',
    'dpop',
    'api_key',
    'x_api_key',
    'code',
    'otp',
    'pin',
    'pinfl',
    'phone',
    'phone_number',
    'msisdn',
    'recipient',
    'activation_code',
    'verification_code',
    'code_verifier',
    'client_assertion',
    'login_hint',
    'binding_message',
    'private_key',
    'master_key',
    'signing_input',
    'signing_payload',
  ].map(normaliseKey),
);

/** Key endings that always mean a secret: `sessionToken`, `client_secret`, `adminPassword`, `apiKey`. */
const SECRET_SUFFIXES = ['token', 'secret', 'password', 'apikey', 'privatekey', 'hint'];

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

export function isSecretKey(key: string): boolean {
  const k = normaliseKey(key);
  return SECRET_KEYS.has(k) || SECRET_SUFFIXES.some((suffix) => k.endsWith(suffix));
}

/** Keys whose string values are URLs: their secret query parameters are masked. */
const URL_KEY = /(url|uri|href|location|path|referer|referrer)$/i;

const MAX_DEPTH = 8;
const MAX_KEYS = 200;
const MAX_ITEMS = 100;
const MAX_MESSAGE = 1000;

/**
 * Removes what a driver copies from the data into its message: PostgreSQL's `Key (phone)=(…)`
 * and `Failing row contains (…)`, quoted input values, and any long digit run (a PINFL, a
 * phone number). What is left still names the constraint or the kind of failure.
 */
export function scrubMessage(message: string): string {
  return message
    .slice(0, MAX_MESSAGE)
    .replace(/Key \(([^)]*)\)=\((?:[^()]|\([^)]*\))*\)/g, `Key ($1)=(${CENSORED})`)
    .replace(/Failing row contains \([\s\S]*?\)(?=[.\n]|$)/g, `Failing row contains (${CENSORED})`)
    .replace(/(for type [\w ]+: )"[^"]*"/g, `$1"${CENSORED}"`)
    .replace(/(?<![\w-])\+?\d(?:[ -]?\d){6,}(?![\w-])/g, CENSORED);
}

interface SerializedError {
  type: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: SerializedError;
}

const SERIALIZED = Symbol('tasdiq.serialized-error');

/**
 * An error as logged: its type, scrubbed message, code and stack only. A database error's
 * `detail`, `where`, `parameters`, `query` and the like carry row values and are dropped.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) {
    if (typeof error === 'object' && error !== null && SERIALIZED in error) return error;
    return typeof error === 'string' ? scrubMessage(error) : error;
  }
  let message = error.message;
  if (!message && error instanceof AggregateError) message = error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  const out: SerializedError = { type: error.constructor?.name ?? error.name, message: scrubMessage(message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof error.stack === 'string') out.stack = scrubMessage(error.stack.replace(error.message, message)).slice(0, 4000);
  if (error.cause !== undefined && depth < 3) {
    const cause = serializeError(error.cause, depth + 1);
    if (typeof cause === 'object' && cause !== null) out.cause = cause as SerializedError;
  }
  Object.defineProperty(out, SERIALIZED, { value: true });
  return out;
}

/**
 * A copy of a log object with every secret-named key censored at any depth, errors reduced to
 * `serializeError`, URLs masked, and size bounded (depth, keys, items, cycles).
 */
export function censor(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return serializeError(value);
  if (SERIALIZED in value) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => censor(item, depth + 1, seen));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more]`);
    seen.delete(value);
    return items;
  }
  if (value instanceof Map) value = Object.fromEntries(value);
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (++count > MAX_KEYS) {
      out['…'] = '[truncated]';
      break;
    }
    if (item === undefined) continue;
    if (isSecretKey(key)) out[key] = item === null ? null : CENSORED;
    else if (typeof item === 'string' && URL_KEY.test(key) && item.includes('?')) out[key] = maskUrl(item);
    else out[key] = censor(item, depth + 1, seen);
  }
  seen.delete(value as object);
  return out;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'tasdiq' },
    formatters: {
      // Runs on every log call's object (child bindings are censored in `createLogger`).
      log: (object) => censor(object) as Record<string, unknown>,
    },
    serializers: { err: serializeError, error: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

/**
 * pino applies no formatter to a child logger's bindings, so the root's `child` censors them
 * first; every logger below it (Fastify's per-request ones included) inherits that `child`.
 */
function censorChildBindings(logger: Logger): Logger {
  type Child = (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  const child = logger.child as unknown as Child;
  const censored: Child = function (bindings, options) {
    return child.call(this, censor(bindings) as pino.Bindings, options);
  };
  logger.child = censored as unknown as Logger['child'];
  return logger;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return censorChildBindings(destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level)));
}

/** Query-string keys whose values are secrets or personal data; masked in logged URLs. */
const SECRET_QUERY_KEYS = new Set(
  [
    'code',
    'token',
    'access_token',
    'id_token',
    'refresh_token',
    'id_token_hint',
    'logout_token',
    'otp',
    'activation_code',
    'client_secret',
    'client_assertion',
    'code_verifier',
    'state',
    'nonce',
    'request',
    'request_uri',
    'login_hint',
    'login_hint_token',
    'binding_message',
    'recipient',
    'pinfl',
    'phone',
    'password',
    'session_token',
  ].map(normaliseKey),
);

/** Masks secret query values so request logs can keep the URL shape without the secret. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
  const params = new URLSearchParams(query);
  for (const key of [...new Set(params.keys())]) {
    if (SECRET_QUERY_KEYS.has(normaliseKey(key)) || isSecretKey(key)) params.set(key, CENSORED);
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

/**
 * A request's logger, made on its first line. Fastify gives every request a child logger, and
 * pino builds one by copying the parent and serializing its bindings (censored first, above):
 * about a twentieth of a small request's CPU, measured, for a logger most requests never use,
 * since successes log nothing at info. This one makes that child only when a line at an
 * enabled level is written through it.
 */
export class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions = {}) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #made(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  #write(level: Level, args: unknown[]): void {
    // A parent that cannot say (not pino) is asked to write: losing a line is worse than a child.
    if (!this.#child && (this.#parent as Partial<Logger>).isLevelEnabled?.(level) === false) return;
    const logger = this.#made();
    Reflect.apply(logger[level], logger, args);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#made().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#write('error', args);
  }

  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }

  info(...args: unknown[]): void {
    this.#write('info', args);
  }

  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#made().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: a lazy child, unless the route sets its own level. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return options.level ? logger.child(bindings, options) : new LazyChildLogger(logger, bindings, options);
}
