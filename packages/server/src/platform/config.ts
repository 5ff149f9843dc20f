import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';

/** Validated service configuration. Built once at start-up; never mutated. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Public base URL the service is reached at (used in links, issuer ids, QR codes). */
  readonly publicUrl: string;
  /**
   * True when PUBLIC_URL was not given and was derived from HOST and PORT; with PORT=0 the
   * service then rewrites it to the port it actually bound (`withBoundPort`).
   */
  readonly publicUrlDerived: boolean;
  /** PostgreSQL connection string; when absent the embedded SQLite database is used. */
  readonly databaseUrl: string | undefined;
  /** Redis for state shared by several instances (rate-limit counters, short-lived state). */
  readonly redisUrl: string | undefined;
  /** Directory for the embedded database and file-backed key store. */
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Requests per minute per client address on routes a stranger can call. */
  readonly rateLimitPerMinute: number;
  /** Requests per minute per relying party and address at the OpenID back-channel endpoints (token, PAR, CIBA, introspection, revocation). */
  readonly oidcClientRateLimitPerMinute: number;
  /** Seconds to wait for in-flight requests on SIGTERM before forcing exit. */
  readonly shutdownGraceSeconds: number;
  /** Development-only affordances (dev SMS inbox, demo data). Never on in production. */
  readonly development: boolean;
  /** When set, /metrics answers only requests bearing this token (`Authorization: Bearer …`). */
  readonly metricsToken: string | undefined;
  /**
   * A PEM file of the roots a device's key attestation must chain to (Google's hardware
   * attestation roots in production). None are built in: without it no attestation verifies.
   */
  readonly keyAttestationRoots: string | undefined;
  /**
   * A JSON file in the format of Google's attestation status list
   * (https://android.googleapis.com/attestation/status): attestation certificates revoked or
   * suspended. Fetched by the operator (nothing downloads at run time) and re-read when it changes.
   */
  readonly keyAttestationStatus: string | undefined;
  /**
   * Apple App Attest for the iOS app: a PEM file of Apple's App Attestation Root CA, the app ids
   * (`TEAMID.bundle.id`) allowed to activate, and which of Apple's environments attests them.
   * Without the root and an app id no App Attest attestation verifies.
   */
  readonly appAttestRoots: string | undefined;
  readonly appAttestAppIds: readonly string[];
  readonly appAttestEnvironment: 'production' | 'development';
  /** Things worth telling the operator that are not errors (a misspelt TASDIQ_* variable). */
  readonly warnings: readonly string[];
}

/**
 * A module's whole-number setting, worded as the core settings are: `fallback` when it is
 * unset, a problem (and `fallback`) when it is not an integer in [min, max]. `raw` is an
 * environment string or a number from a JSON setting.
 */
export function integerValue<F extends number | undefined>(name: string, raw: unknown, fallback: F, min: number, max: number, problems: string[]): number | F {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  const n = typeof raw === 'number' ? raw : text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    problems.push(`${name}: expected an integer from ${min} to ${max}, got "${String(raw).slice(0, 40)}"`);
    return fallback;
  }
  return n;
}

/** integerValue for the environment variable `name`. */
export function integerSetting<F extends number | undefined>(env: NodeJS.ProcessEnv, name: string, fallback: F, min: number, max: number, problems: string[]): number | F {
  return integerValue(name, env[name], fallback, min, max, problems);
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type RawValue = string | number | boolean | undefined;
type RawConfig = Record<string, RawValue>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Maps environment variable names to config file keys. */
const ENV_KEYS = {
  HOST: 'host',
  PORT: 'port',
  PUBLIC_URL: 'publicUrl',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  TASDIQ_DATA_DIR: 'dataDir',
  LOG_LEVEL: 'logLevel',
  TASDIQ_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  TASDIQ_OIDC_CLIENT_RATE_LIMIT_PER_MINUTE: 'oidcClientRateLimitPerMinute',
  TASDIQ_SHUTDOWN_GRACE_SECONDS: 'shutdownGraceSeconds',
  TASDIQ_DEVELOPMENT: 'development',
  TASDIQ_METRICS_TOKEN: 'metricsToken',
  TASDIQ_KEY_ATTESTATION_ROOTS: 'keyAttestationRoots',
  TASDIQ_KEY_ATTESTATION_STATUS: 'keyAttestationStatus',
  TASDIQ_APP_ATTEST_ROOTS: 'appAttestRoots',
  TASDIQ_APP_ATTEST_APP_IDS: 'appAttestAppIds',
  TASDIQ_APP_ATTEST_ENVIRONMENT: 'appAttestEnvironment',
} as const;
type Key = (typeof ENV_KEYS)[keyof typeof ENV_KEYS];

/**
 * Every TASDIQ_* variable the project reads, here and in the modules, the CLI and the tests,
 * so that a misspelt one is pointed out instead of silently ignored. A test keeps this list in
 * step with the sources.
 */
export const KNOWN_TASDIQ_VARIABLES: readonly string[] = [
  ...Object.keys(ENV_KEYS).filter((name) => name.startsWith('TASDIQ_')),
  'TASDIQ_CONFIG',
  'TASDIQ_AUTH_APP_TTL_SECONDS',
  'TASDIQ_AUTH_OTP_TTL_SECONDS',
  'TASDIQ_AUTH_OTP_MAX_ATTEMPTS',
  'TASDIQ_AUTH_COOLDOWN_AFTER',
  'TASDIQ_AUTH_COOLDOWN_WINDOW_SECONDS',
  'TASDIQ_AUTH_OTP_PER_PHONE',
  'TASDIQ_AUTH_OTP_PER_PHONE_WINDOW_SECONDS',
  'TASDIQ_AUTH_OTP_PER_CLIENT_PER_MINUTE',
  'TASDIQ_AUTH_RETENTION_HOURS',
  'TASDIQ_AUTH_PUSH_FALLBACK_SECONDS',
  'TASDIQ_MASTER_KEY',
  // identity: the population registry connector
  'TASDIQ_REGISTRY',
  'TASDIQ_REGISTRY_CERT',
  'TASDIQ_REGISTRY_KEY',
  'TASDIQ_REGISTRY_CA',
  'TASDIQ_REGISTRY_HMAC_SECRET',
  'TASDIQ_REGISTRY_HMAC_KEY_ID',
  'TASDIQ_REGISTRY_TIMEOUT_MS',
  'TASDIQ_REGISTRY_RETRIES',
  // notify: outbox, SMS and push channels
  'TASDIQ_OUTBOX_WORKER',
  'TASDIQ_OUTBOX_POLL_MS',
  'TASDIQ_OUTBOX_BATCH',
  'TASDIQ_OUTBOX_LEASE_MS',
  'TASDIQ_OUTBOX_RETENTION_DAYS',
  'TASDIQ_OUTBOX_BACKOFF_MS',
  'TASDIQ_OUTBOX_MAX_BACKOFF_MS',
  'TASDIQ_SMS_CHANNEL',
  'TASDIQ_SMS_HTTP_URL',
  'TASDIQ_SMS_HTTP_TOKEN',
  'TASDIQ_SMS_HTTP_TIMEOUT_MS',
  'TASDIQ_SMS_HTTP_RECEIPT_TOKEN',
  'TASDIQ_SMPP_ROUTES',
  'TASDIQ_VAPID_SUBJECT',
  'TASDIQ_VAPID_PUBLIC_KEY',
  'TASDIQ_VAPID_PRIVATE_KEY',
  'TASDIQ_FCM_PROJECT_ID',
  'TASDIQ_FCM_CLIENT_EMAIL',
  'TASDIQ_FCM_PRIVATE_KEY',
  'TASDIQ_FCM_PRIVATE_KEY_FILE',
  'TASDIQ_FCM_TOKEN_URL',
  'TASDIQ_FCM_ENDPOINT',
  'TASDIQ_APNS_TEAM_ID',
  'TASDIQ_APNS_KEY_ID',
  'TASDIQ_APNS_TOPIC',
  'TASDIQ_APNS_KEY_FILE',
  'TASDIQ_APNS_PRIVATE_KEY',
  'TASDIQ_APNS_ENDPOINT',
  'TASDIQ_WEBPUSH_HOSTS',
  // the standalone outbox worker's metrics listener
  'TASDIQ_WORKER_METRICS_HOST',
  'TASDIQ_WORKER_METRICS_PORT',
  // examples and tools
  'TASDIQ_ISSUER',
  'TASDIQ_CA_PEM',
  // the test suite and CI
  'TASDIQ_REQUIRE_POSTGRES',
  'TASDIQ_REQUIRE_REDIS',
  'TASDIQ_TEST_POSTGRES',
  'TASDIQ_SKIP_BROWSER',
  'TASDIQ_CHROMIUM',
  'TASDIQ_SCREENSHOTS',
];

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (!best || d < best.d) best = { name: candidate, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 4)) ? best.name : undefined;
}

/** Where a value came from, so each problem names what the operator has to fix. */
interface Source {
  readonly value: RawValue | object | null;
  readonly label: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `"${String(value)}"`;
}

class Checker {
  readonly problems: string[] = [];

  problem(source: Source, message: string): undefined {
    this.problems.push(`${source.label}: ${message}`);
    return undefined;
  }

  string(source: Source): string | undefined {
    if (typeof source.value === 'string') return source.value.trim();
    return this.problem(source, `expected a string, got ${typeof source.value === 'object' ? describe(source.value) : `the ${typeof source.value} ${String(source.value)}`}`);
  }

  integer(source: Source, min: number, max: number): number | undefined {
    const v = source.value;
    // Decimal digits only: `0x50`, `1e3`, `+80` and ` 80 ` are typing mistakes, not numbers.
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      return this.problem(source, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
    }
    return n;
  }

  bool(source: Source): boolean | undefined {
    const v = source.value;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
    }
    return this.problem(source, `expected true or false, got ${describe(v)}`);
  }
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(`config file ${path}: must hold a JSON object`);
      return {};
    }
    const known = Object.values(ENV_KEYS) as string[];
    for (const key of Object.keys(parsed)) {
      if (!known.includes(key)) {
        const suggestion = closest(key, known);
        problems.push(`config file ${path}: unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''} (known: ${known.join(', ')})`);
      }
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(`config file ${path}: ${(error as Error).message}`);
    return {};
  }
}

/** An Apple app id: the 10-character team id, a dot, the bundle id. */
const APP_ID = /^[A-Z0-9]{10}\.[A-Za-z0-9][A-Za-z0-9.-]{0,154}$/;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Removes a password from a URL before it goes into an error message. */
function safeUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

function checkServiceUrl(check: Checker, source: Source, value: string, schemes: readonly string[], example: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return check.problem(source, `expected a URL like ${example} (the value is not shown: it may hold a password)`);
  }
  if (!schemes.includes(url.protocol)) return check.problem(source, `expected a ${schemes.map((s) => `${s}//`).join(' or ')} URL like ${example}, got ${url.protocol}//…`);
  if (!url.hostname && !url.searchParams.get('host')) return check.problem(source, `names no host, in ${safeUrl(url)} (expected ${example})`);
  return value;
}

/** The data directory must be a directory, or creatable: every existing ancestor a directory. */
function checkDataDir(check: Checker, source: Source, dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    let stats;
    try {
      stats = statSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(current) !== current) continue;
      check.problem(source, `cannot use ${dir}: ${(error as Error).message}`);
      return;
    }
    if (!stats.isDirectory()) check.problem(source, current === dir ? `${dir} is a file, not a directory` : `cannot create ${dir}: ${current} is a file, not a directory`);
    return;
  }
}

/** `http://host:port` for a listening address: wildcard hosts become localhost, IPv6 is bracketed. */
export function urlForAddress(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

/**
 * Loads configuration from an optional JSON file (TASDIQ_CONFIG or `configFile`) and the
 * environment, which wins; `overrides` (command-line flags) win over both. Every bad value is
 * reported at once, each naming its variable, so an operator fixes a broken deployment in one
 * pass rather than one restart per mistake.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: RawConfig = {}, configFile?: string): Config {
  const check = new Checker();
  const filePath = configFile ?? env.TASDIQ_CONFIG;
  const file = filePath ? readConfigFile(filePath, check.problems) : {};
  const sources: Partial<Record<Key, Source>> = {};
  for (const [envName, key] of Object.entries(ENV_KEYS) as [string, Key][]) {
    if (key in file) sources[key] = { value: file[key] as RawValue, label: `${envName} (config file key "${key}")` };
    const value = env[envName];
    if (value !== undefined && value !== '') sources[key] = { value, label: envName };
    const override = overrides[key];
    if (override !== undefined) sources[key] = { value: override, label: envName };
  }
  const source = (key: Key): Source | undefined => sources[key];
  const text = (key: Key): string | undefined => {
    const s = source(key);
    return s ? check.string(s) : undefined;
  };

  let host = '127.0.0.1';
  const hostSource = source('host');
  const hostValue = text('host');
  if (hostSource && hostValue !== undefined) {
    if (isIP(hostValue) || HOST_NAME.test(hostValue)) host = hostValue;
    else check.problem(hostSource, `expected an IP address or a host name (0.0.0.0 for every interface), got "${hostValue}"`);
  }

  const portSource = source('port');
  const port = (portSource ? check.integer(portSource, 0, 65535) : 3000) ?? 3000;

  let logLevel: Config['logLevel'] = 'info';
  const levelSource = source('logLevel');
  const level = text('logLevel');
  if (levelSource && level !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) logLevel = level as Config['logLevel'];
    else check.problem(levelSource, `expected one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }

  const databaseSource = source('databaseUrl');
  const databaseValue = text('databaseUrl');
  const databaseUrl =
    databaseSource && databaseValue !== undefined
      ? checkServiceUrl(check, databaseSource, databaseValue, ['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/database')
      : undefined;

  const redisSource = source('redisUrl');
  const redisValue = text('redisUrl');
  const redisUrl = redisSource && redisValue !== undefined ? checkServiceUrl(check, redisSource, redisValue, ['redis:', 'rediss:'], 'redis://host:6379') : undefined;

  const publicSource = source('publicUrl');
  const publicValue = text('publicUrl');
  let publicUrl = urlForAddress(host, port);
  if (publicSource && publicValue !== undefined) {
    publicUrl = publicValue.replace(/\/+$/, '');
    let url: URL | undefined;
    try {
      url = new URL(publicUrl);
    } catch {
      check.problem(publicSource, `expected an http(s) URL, got "${publicValue}"`);
    }
    if (url) {
      // It becomes the OpenID issuer, a base for links and QR codes: a bare origin and path only.
      if (url.protocol !== 'http:' && url.protocol !== 'https:') check.problem(publicSource, `expected an http(s) URL, got "${publicValue}"`);
      else if (!url.hostname) check.problem(publicSource, `names no host, in "${publicValue}"`);
      else if (url.search || url.hash || publicValue.includes('?') || publicValue.includes('#')) check.problem(publicSource, `must not have a query or fragment, got "${publicValue}"`);
      else if (url.username || url.password) check.problem(publicSource, 'must not hold a user name or password');
    }
  }

  const dataSource = source('dataDir');
  const dataValue = text('dataDir');
  const dataDir = resolve(dataValue || './data');
  checkDataDir(check, dataSource ?? { value: dataDir, label: 'TASDIQ_DATA_DIR' }, dataDir);

  const rateSource = source('rateLimitPerMinute');
  const rateLimitPerMinute = (rateSource ? check.integer(rateSource, 1, 10_000_000) : 300) ?? 300;
  const clientRateSource = source('oidcClientRateLimitPerMinute');
  const oidcClientRateLimitPerMinute = (clientRateSource ? check.integer(clientRateSource, 1, 10_000_000) : 3000) ?? 3000;
  const graceSource = source('shutdownGraceSeconds');
  const shutdownGraceSeconds = (graceSource ? check.integer(graceSource, 0, 600) : 10) ?? 10;
  const developmentSource = source('development');
  const development = (developmentSource ? check.bool(developmentSource) : false) ?? false;

  const metricsSource = source('metricsToken');
  const metricsValue = text('metricsToken');
  let metricsToken: string | undefined;
  if (metricsSource && metricsValue !== undefined) {
    if (/^[\x21-\x7e]{16,512}$/.test(metricsValue)) metricsToken = metricsValue;
    else check.problem(metricsSource, 'expected at least 16 visible ASCII characters without spaces (the value is not shown)');
  }

  /**
   * A setting naming a file that must be readable now; `problemIn` tells what is wrong with its
   * content, if anything can be told this early (the module that uses it reads it in full).
   */
  const readableFile = (key: 'keyAttestationRoots' | 'keyAttestationStatus' | 'appAttestRoots', problemIn: (content: string, path: string) => string | undefined = () => undefined): string | undefined => {
    const fileSource = source(key);
    const value = text(key);
    if (!fileSource || !value) return undefined;
    const path = resolve(value);
    try {
      const problem = problemIn(readFileSync(path, 'utf8'), path);
      if (problem) check.problem(fileSource, problem);
    } catch (error) {
      check.problem(fileSource, `cannot read ${path}: ${(error as Error).message}`);
    }
    return path;
  };
  /** A file of PEM certificates: `expected` says which, should it hold none. */
  const pemCertificates = (expected: string) => (content: string, path: string) =>
    /-----BEGIN CERTIFICATE-----/.test(content) ? undefined : `${path} holds no PEM certificate (expected ${expected})`;
  const keyAttestationRoots = readableFile('keyAttestationRoots', pemCertificates('the trusted attestation roots, -----BEGIN CERTIFICATE----- blocks'));
  // Its entries are checked when the devices module loads it.
  const keyAttestationStatus = readableFile('keyAttestationStatus');
  const appAttestRoots = readableFile('appAttestRoots', pemCertificates("Apple's App Attestation Root CA, a -----BEGIN CERTIFICATE----- block"));
  const appIdsSource = source('appAttestAppIds');
  const appAttestAppIds = (text('appAttestAppIds') ?? '').split(',').map((id) => id.trim()).filter((id) => id.length > 0);
  for (const id of appAttestAppIds) {
    if (!APP_ID.test(id)) check.problem(appIdsSource!, `"${id.slice(0, 80)}" is not an app id: expected the team id and the bundle id, e.g. A1B2C3D4E5.uz.gov.tasdiq`);
  }
  if (appAttestRoots && appAttestAppIds.length === 0) check.problem(source('appAttestRoots')!, 'is set, but TASDIQ_APP_ATTEST_APP_IDS names no app: say which iOS apps may activate');
  if (appIdsSource && appAttestAppIds.length > 0 && !appAttestRoots) check.problem(appIdsSource, "is set, but TASDIQ_APP_ATTEST_ROOTS does not name Apple's App Attestation Root CA");
  const environmentSource = source('appAttestEnvironment');
  const environmentValue = text('appAttestEnvironment');
  let appAttestEnvironment: Config['appAttestEnvironment'] = 'production';
  if (environmentSource && environmentValue !== undefined) {
    if (environmentValue === 'production' || environmentValue === 'development') appAttestEnvironment = environmentValue;
    else check.problem(environmentSource, `expected production or development, got "${environmentValue.slice(0, 40)}"`);
  }

  if (check.problems.length > 0) throw new ConfigError(check.problems);

  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('TASDIQ_') || KNOWN_TASDIQ_VARIABLES.includes(name)) continue;
    const suggestion = closest(name, KNOWN_TASDIQ_VARIABLES);
    warnings.push(`${name} is not a Tasdiq setting and is ignored${suggestion ? `; did you mean ${suggestion}?` : ''}`);
  }

  return Object.freeze({
    host,
    port,
    publicUrl,
    publicUrlDerived: !publicSource,
    databaseUrl,
    redisUrl,
    dataDir,
    logLevel,
    rateLimitPerMinute,
    oidcClientRateLimitPerMinute,
    shutdownGraceSeconds,
    development,
    metricsToken,
    keyAttestationRoots,
    keyAttestationStatus,
    appAttestRoots,
    appAttestAppIds: Object.freeze(appAttestAppIds),
    appAttestEnvironment,
    warnings: Object.freeze(warnings),
  });
}

/**
 * The configuration once the service listens: with PORT=0 the system chose the port, and a
 * PUBLIC_URL derived from HOST and PORT must carry the real one (it is the OpenID issuer and
 * the base of every link). An explicit PUBLIC_URL is kept as given.
 */
export function withBoundPort(config: Config, port: number): Config {
  if (config.port === port) return config;
  return Object.freeze({ ...config, port, publicUrl: config.publicUrlDerived ? urlForAddress(config.host, port) : config.publicUrl });
}
