import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openRedis } from '../../src/platform/redis.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { RedisAdapter } from '../../src/oidc/storage/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';

/**
 * A TCP relay to the real Redis that can be cut and restored: Redis "goes away" for this
 * service only, as when its host restarts, without stopping the Redis other tests share.
 */
async function cuttableRelay(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const redisUrl = inject('redisUrl');

describe.skipIf(!redisUrl)('Redis going away while the service runs', () => {
  let relay: Awaited<ReturnType<typeof cuttableRelay>>;
  let app: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    relay = await cuttableRelay(new URL(redisUrl!));
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await createTestApp('sqlite', { config: { redisUrl: relay.url, logLevel: 'info' }, logDestination: sink });
  });
  afterAll(async () => {
    await app?.close();
    await relay?.close();
  });

  it('answers 503 with Retry-After (not 500), is not ready, logs the outage once, and recovers when Redis is back', async () => {
    expect((await app.http.inject('/api/v1/offices')).statusCode).toBe(200);
    expect((await app.http.inject('/readyz')).json()).toEqual({ status: 'ready', database: 'sqlite', redis: 'ready' });

    relay.cut();
    await expect.poll(async () => (await app.http.inject('/api/v1/offices')).statusCode).toBe(503);
    for (const url of ['/api/v1/offices', '/oidc/jwks', '/.well-known/openid-configuration']) {
      const response = await app.http.inject({ url, headers: { 'accept-language': 'en' } });
      expect(response.statusCode, url).toBe(503);
      expect(response.headers['retry-after'], url).toMatch(/^\d+$/);
      expect(response.json(), url).toMatchObject({ code: 'service_unavailable' });
    }
    // Liveness stays up (restarting the process would not bring Redis back); readiness does not.
    expect((await app.http.inject('/healthz')).statusCode).toBe(200);
    await expect.poll(async () => (await app.http.inject('/readyz')).statusCode, { timeout: 5_000 }).toBe(503);
    expect((await app.http.inject('/readyz')).json()).toMatchObject({ code: 'service_unavailable', detail: 'redis did not answer' });

    relay.restore();
    await expect.poll(async () => (await app.http.inject('/api/v1/offices')).statusCode, { timeout: 15_000, interval: 200 }).toBe(200);
    await expect.poll(async () => (await app.http.inject('/readyz')).statusCode, { timeout: 5_000 }).toBe(200);

    const logged = lines.map((line) => JSON.parse(line) as { msg: string; redis?: string });
    // However many reconnection attempts failed, the outage is one warning a client, and its end one line.
    expect(logged.filter((l) => l.msg === 'Redis is unavailable' && l.redis === 'rate-limit')).toHaveLength(1);
    expect(logged.filter((l) => l.msg === 'Redis is available again' && l.redis === 'rate-limit')).toHaveLength(1);
    expect(lines.join('')).not.toContain(relay.url);
    // The refused requests' own lines blame Redis or an unreachable dependency, never the database (SQLite is fine).
    const refused = logged.filter((l) => l.msg.startsWith('request failed'));
    expect(refused.length).toBeGreaterThan(0);
    for (const line of refused) expect(line.msg).toMatch(/^request failed: (Redis is unavailable|redis did not answer|a service it depends on is unreachable \(E[A-Z]+\))$/);
  });

  it("gives the OpenID provider temporarily_unavailable (503) for its state, not the provider's opaque server_error", async () => {
    const second = await cuttableRelay(new URL(redisUrl!));
    const redis = openRedis(second.url, createLogger('silent'), 'oidc', { maxRetriesPerRequest: 1 });
    await redis.connect();
    const adapter = new RedisAdapter('Session', redis);
    try {
      await adapter.upsert('s1', { accountId: 'cit_x' }, 60);
      expect(await adapter.find('s1')).toMatchObject({ accountId: 'cit_x' });
      second.cut();
      const failure = await adapter.find('s1').then(
        () => undefined,
        (error: unknown) => error as { error?: string; statusCode?: number; expose?: boolean },
      );
      expect(failure).toMatchObject({ error: 'temporarily_unavailable', statusCode: 503, expose: true });
    } finally {
      second.restore();
      redis.disconnect();
      await second.close();
    }
  });
});
