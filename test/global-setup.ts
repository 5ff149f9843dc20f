import { connect } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PostgreSQL URL for storage tests, or null when none answers. */
    postgresUrl: string | null;
    /** Redis URL for shared-state tests, or null when none answers. */
    redisUrl: string | null;
  }
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

function answers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Storage tests run on SQLite always, and on PostgreSQL when TEST_DATABASE_URL is set or a
 * server answers on 127.0.0.1:5432. The run says which, so a green run on one is not
 * mistaken for a green run on both.
 */
export default async function setup(project: TestProject): Promise<void> {
  let url: string | null = process.env.TEST_DATABASE_URL ?? null;
  if (!url && process.env.TASDIQ_TEST_POSTGRES !== '0' && (await answers('127.0.0.1', 5432, 500))) url = DEFAULT_URL;
  if (process.env.TASDIQ_REQUIRE_POSTGRES === '1' && !url) throw new Error('TASDIQ_REQUIRE_POSTGRES=1 but no PostgreSQL answers');
  project.provide('postgresUrl', url);
  const redisUrl = process.env.TEST_REDIS_URL ?? ((await answers('127.0.0.1', 6379, 500)) ? 'redis://127.0.0.1:6379' : null);
  if (process.env.TASDIQ_REQUIRE_REDIS === '1' && !redisUrl) throw new Error('TASDIQ_REQUIRE_REDIS=1 but no Redis answers');
  project.provide('redisUrl', redisUrl);
  const where = url ? `SQLite and PostgreSQL (${url.replace(/:[^:@/]*@/, ':***@')})` : 'SQLite only (no PostgreSQL answered; set TEST_DATABASE_URL)';
  console.log(`\n[tasdiq] storage tests run on ${where}; Redis tests ${redisUrl ? `on ${redisUrl}` : 'skipped (no Redis answered)'}\n`);
}
