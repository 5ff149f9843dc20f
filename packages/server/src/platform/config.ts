import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Validated service configuration. Built once at start-up; never mutated. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** Public base URL the service is reached at (used in links, issuer ids, QR codes). */
  readonly publicUrl: string;
  /** PostgreSQL connection string; when absent the embedded SQLite database is used. */
  readonly databaseUrl: string | undefined;
  /** Redis for state shared by several instances (rate-limit counters, short-lived state). */
  readonly redisUrl: string | undefined;
  /** Directory for the embedded database and file-backed key store. */
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Requests per minute per client address on routes a stranger can call. */
  readonly rateLimitPerMinute: number;
  /** Seconds to wait for in-flight requests on SIGTERM before forcing exit. */
  readonly shutdownGraceSeconds: number;
  /** Development-only affordances (dev SMS inbox, demo data). Never on in production. */
  readonly development: boolean;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type RawConfig = Record<string, string | number | boolean | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Maps environment variable names to config file keys. */
const ENV_KEYS: Record<string, string> = {
  HOST: 'host',
  PORT: 'port',
  PUBLIC_URL: 'publicUrl',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  TASDIQ_DATA_DIR: 'dataDir',
  LOG_LEVEL: 'logLevel',
  TASDIQ_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  TASDIQ_SHUTDOWN_GRACE_SECONDS: 'shutdownGraceSeconds',
  TASDIQ_DEVELOPMENT: 'development',
};

function readConfigFile(path: string, problems: string[]): RawConfig {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(`config file ${path}: must hold a JSON object`);
      return {};
    }
    const known = new Set(Object.values(ENV_KEYS));
    for (const key of Object.keys(parsed)) {
      if (!known.has(key)) problems.push(`config file ${path}: unknown key "${key}" (known: ${[...known].join(', ')})`);
    }
    return parsed as RawConfig;
  } catch (error) {
    problems.push(`config file ${path}: ${(error as Error).message}`);
    return {};
  }
}

function integer(name: string, value: unknown, min: number, max: number, problems: string[]): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}: expected an integer from ${min} to ${max}, got "${String(value)}"`);
    return min;
  }
  return n;
}

function bool(name: string, value: unknown, problems: string[]): boolean {
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  problems.push(`${name}: expected true or false, got "${String(value)}"`);
  return false;
}

/**
 * Loads configuration from an optional JSON file (TASDIQ_CONFIG or `configFile`) and the
 * environment, which wins. Every bad value is reported at once, so an operator fixes a
 * broken deployment in one pass rather than one restart per mistake.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: RawConfig = {}, configFile?: string): Config {
  const problems: string[] = [];
  const filePath = configFile ?? env.TASDIQ_CONFIG;
  const raw: RawConfig = filePath ? readConfigFile(filePath, problems) : {};
  for (const [envName, key] of Object.entries(ENV_KEYS)) {
    const value = env[envName];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)));

  const host = String(raw.host ?? '127.0.0.1');
  const port = integer('PORT', raw.port ?? 3000, 0, 65535, problems);
  const logLevel = String(raw.logLevel ?? 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const databaseUrl = raw.databaseUrl === undefined ? undefined : String(raw.databaseUrl);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL: expected a postgres:// or postgresql:// URL');
  }
  const redisUrl = raw.redisUrl === undefined ? undefined : String(raw.redisUrl);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL: expected a redis:// or rediss:// URL');
  }
  const publicUrl = String(raw.publicUrl ?? `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`).replace(/\/+$/, '');
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    problems.push(`PUBLIC_URL: expected an http(s) URL, got "${publicUrl}"`);
  }

  const config: Config = {
    host,
    port,
    publicUrl,
    databaseUrl,
    redisUrl,
    dataDir: resolve(String(raw.dataDir ?? './data')),
    logLevel: logLevel as Config['logLevel'],
    rateLimitPerMinute: integer('TASDIQ_RATE_LIMIT_PER_MINUTE', raw.rateLimitPerMinute ?? 300, 1, 10_000_000, problems),
    shutdownGraceSeconds: integer('TASDIQ_SHUTDOWN_GRACE_SECONDS', raw.shutdownGraceSeconds ?? 10, 0, 600, problems),
    development: bool('TASDIQ_DEVELOPMENT', raw.development ?? false, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
