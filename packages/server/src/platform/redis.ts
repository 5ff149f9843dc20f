import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';

/** Redis answers in well under a millisecond on a healthy network; a command taking this long has no connection behind it. */
const COMMAND_TIMEOUT_MS = 1_000;
/** While Redis stays away, its loss is logged once in this long, not on every reconnection attempt. */
const OUTAGE_LOG_INTERVAL_MS = 30_000;

/**
 * A Redis client (not yet connected: `lazyConnect`) whose connection errors go to the
 * service's log, once per outage window and again when it is back, instead of ioredis's
 * "Unhandled error event" on the console for every attempt. The address is never logged: it
 * may carry a password.
 */
export function openRedis(url: string, logger: Logger, name: string, options: Pick<RedisOptions, 'maxRetriesPerRequest' | 'enableOfflineQueue'> = {}): Redis {
  // A command sent just as the connection broke would otherwise wait for a reconnection that
  // may never come, holding its request open: it fails after this long instead.
  const redis = new Redis(url, { lazyConnect: true, commandTimeout: COMMAND_TIMEOUT_MS, ...options });
  let lostAt: number | undefined;
  let loggedAt = 0;
  redis.on('error', (error: Error & { code?: string }) => {
    const now = Date.now();
    lostAt ??= now;
    if (now - loggedAt < OUTAGE_LOG_INTERVAL_MS) return;
    loggedAt = now;
    logger.warn({ redis: name, err: { message: error.message, code: error.code } }, 'Redis is unavailable');
  });
  redis.on('ready', () => {
    if (lostAt === undefined) return;
    logger.info({ redis: name, unavailableMs: Date.now() - lostAt }, 'Redis is available again');
    lostAt = undefined;
    loggedAt = 0;
  });
  return redis;
}

/** ioredis's own words for "not connected now": the command was not sent, or its connection went. */
const UNAVAILABLE_MESSAGE = /^(Connection is closed\.|Stream isn't writeable|Reached the max retries per request limit|Command timed out)/;

/**
 * True when an error means Redis is out of reach for now (down, restarting, unreachable): the
 * HTTP layer answers 503 with Retry-After, as for a database outage, instead of a 500. (A
 * refused or reset connection carries a system error code, which `isDatabaseUnavailable`
 * already answers 503 for, whichever client met it.)
 */
export function isRedisUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; message?: unknown; cause?: unknown };
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  return isRedisUnavailable(e.cause, depth + 1);
}
