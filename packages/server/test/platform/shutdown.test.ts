import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceClient, SessionClient } from '../../../client/src/index.ts';
import { enrollCitizen, listeningApp } from '../devices/fixtures.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { MODULES } from '../../src/modules.ts';
import type { TasdiqModule } from '../../src/platform/module.ts';
import { createTestDatabase, testDialects } from '../support/databases.ts';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    // A module that holds one request open, standing in for a long-poll of session status.
    const slow: TasdiqModule = {
      name: 'slow',
      routes: async (app) => {
        app.get('/slow', async () => {
          entered();
          await gate;
          return { done: true };
        });
      },
    };
    const database = await createTestDatabase('sqlite');
    const app = await buildApp({ config: loadConfig({}, { logLevel: 'silent' }), database, logger: createLogger('silent'), modules: [...MODULES, slow] });
    const address = await app.http.listen({ host: '127.0.0.1', port: 0 });
    try {
      const pending = fetch(`${address}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
      await inFlight;
      const closing = app.close();
      setTimeout(release, 100);
      expect(await pending).toEqual({ status: 200, body: { done: true } });
      await closing;
      await expect(fetch(`${address}/healthz`)).rejects.toThrow();
    } finally {
      release();
      await app.close();
      await database.dispose();
    }
  });
});

const FIXTURE = resolve(import.meta.dirname, 'fixtures/slow-service.ts');

/** Runs the service in its own process, as `tasdiq serve` does, and follows its output. */
async function serviceProcess(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-shutdown-'));
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, TASDIQ_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const waitFor = async (pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(out);
      if (match) return match;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const url = (await waitFor(/listening (\S+)/))[1]!;
  return {
    child,
    url,
    exited,
    waitFor,
    output: () => out,
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('SIGTERM to the running service', () => {
  it('finishes a slow in-flight request, then exits 0', async () => {
    const service = await serviceProcess();
    try {
      const pending = fetch(`${service.url}/slow?ms=1500`).then(async (r) => ({ status: r.status, body: await r.json() }));
      await service.waitFor(/entered/);
      const signalled = Date.now();
      service.child.kill('SIGTERM');
      expect(await pending).toEqual({ status: 200, body: { done: true } });
      const { code, at } = await service.exited;
      expect(code).toBe(0);
      expect(at - signalled).toBeGreaterThanOrEqual(1_000);
      expect(service.output()).toMatch(/shutting down: finishing in-flight requests/);
    } finally {
      await service.cleanup();
    }
  });

  it('exits 1 once TASDIQ_SHUTDOWN_GRACE_SECONDS pass with a request still open', async () => {
    const service = await serviceProcess({ TASDIQ_SHUTDOWN_GRACE_SECONDS: '1' });
    try {
      void fetch(`${service.url}/slow?ms=120000`).catch(() => undefined);
      await service.waitFor(/entered/);
      const signalled = Date.now();
      service.child.kill('SIGTERM');
      const { code, at } = await service.exited;
      expect(code).toBe(1);
      expect(at - signalled).toBeGreaterThanOrEqual(900);
      expect(at - signalled).toBeLessThan(10_000);
      expect(service.output()).toMatch(/did not finish within TASDIQ_SHUTDOWN_GRACE_SECONDS/);
    } finally {
      await service.cleanup();
    }
  });
});

describe.each(testDialects())('closing wakes long polls on %s', (dialect) => {
  it('answers a 30 s session long poll at once when the service closes, and close does not wait for it', async () => {
    const app = await listeningApp(dialect);
    let closed = false;
    try {
      const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
      await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
      const started = await new SessionClient(app.url).start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', reason: 'Kirish', pinfl: citizen.pinfl });
      const asked = Date.now();
      const poll = fetch(`${app.url}/api/v1/auth/sessions/${started.sessionId}?timeoutMs=30000`, { headers: { authorization: `Bearer ${started.sessionToken}` } });
      await new Promise((r) => setTimeout(r, 300));
      expect(app.context.closing.aborted).toBe(false);
      const closing = app.close().then(() => (closed = true));
      const answer = await poll;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { state: string }).state).not.toBe('complete');
      await closing;
      expect(app.context.closing.aborted).toBe(true);
      expect(Date.now() - asked).toBeLessThan(5_000);
    } finally {
      if (!closed) await app.close();
    }
  });
});

describe('a start that cannot listen', () => {
  it('closes everything it started, so the process ends by itself', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-listen-'));
    try {
      const child = spawn(process.execPath, [resolve(import.meta.dirname, 'fixtures/listen-fail.ts')], {
        env: { ...process.env, TASDIQ_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent', PORT: String(port), TASDIQ_OUTBOX_WORKER: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
      clearTimeout(timer);
      expect(signal, `still running after 20 s: ${out}`).toBeNull();
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`failed: cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST=127\\.0\\.0\\.1, PORT=${port}\\): the port is already in use`));
    } finally {
      holder.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
