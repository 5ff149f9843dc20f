import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../bin/tasdiq.js');
const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-cli-'));
const env = { ...process.env, TASDIQ_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function tasdiq(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 30_000 });
}

describe('tasdiq command', () => {
  it('prints help listing its commands', () => {
    const result = tasdiq('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/serve\s+Run the Tasdiq service/);
    expect(result.stdout).toMatch(/migrate\s+Apply pending database migrations/);
  });

  it('refuses an unknown command and bad configuration with exit code 2 and a clear message', () => {
    const unknown = tasdiq('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badPort = spawnSync(process.execPath, [BIN, 'migrate'], { env: { ...env, PORT: 'x' }, encoding: 'utf8' });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toMatch(/PORT: expected an integer/);
  });

  it('migrates the embedded database and reports status', () => {
    const first = tasdiq('migrate');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/success\s+202611250700_offices/);
    const status = tasdiq('migrate', '--status');
    expect(status.stdout).not.toMatch(/pending/);
    expect(status.stdout).toMatch(/applied\s+202611250700_offices/);
  });

  it('serves with demo data, prints its URLs, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--demo', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      let healthz: string | undefined;
      while (!healthz && Date.now() < deadline) {
        healthz = /Liveness\s+(\S+)/.exec(out)?.[1];
        if (!healthz) await new Promise((r) => setTimeout(r, 50));
      }
      expect(healthz, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
      expect(out).toMatch(/embedded SQLite/);
      expect((await fetch(healthz!)).status).toBe(200);
      // --port 0: the issuer and every printed link carry the port actually bound, not :0.
      const origin = new URL(healthz!).origin;
      expect(origin).not.toMatch(/:0$/);
      const discovery = (await (await fetch(`${origin}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(origin);
      expect(out).not.toMatch(/127\.0\.0\.1:0\b/);
      const offices = await fetch(healthz!.replace('/healthz', '/api/v1/offices?region=UZ-SU'));
      expect(((await offices.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

/** Runs `tasdiq serve` to its end and says how it ended. */
function serveUntilExit(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 20_000) {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  return new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}

describe('tasdiq serve that cannot listen', () => {
  it('exits non-zero within seconds, naming PORT, when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const result = await serveUntilExit(['--port', String(port)]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST=127\\.0\\.0\\.1, PORT=${port}\\): the port is already in use.*\\[EADDRINUSE\\]`));
      expect(result.ms).toBeLessThan(15_000);
    } finally {
      holder.close();
    }
  });

  it('exits non-zero, naming HOST, when HOST is not an address of this machine', async () => {
    const result = await serveUntilExit(['--port', '0'], { HOST: '203.0.113.7' });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/cannot listen on 203\.0\.113\.7:0 \(HOST=203\.0\.113\.7, PORT=0\): HOST is not an address of this machine.*\[EADDRNOTAVAIL\]/);
  });

  it('exits non-zero after building everything, when the port is taken and PORT is fixed', async () => {
    // Fixed ports get no pre-check: the app (outbox worker, OIDC timers) is built, then
    // listen fails, and everything must be closed for the process to end by itself.
    const { createServer } = await import('node:net');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const result = await serveUntilExit(['--demo', '--port', String(port)], { TASDIQ_OUTBOX_WORKER: '1' });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/EADDRINUSE/);
    } finally {
      holder.close();
    }
  });
});

describe('npm start', () => {
  it('execs the server, so the SIGTERM npm forwards to its child stops it', async () => {
    const root = resolve(import.meta.dirname, '../../..');
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(script).toMatch(/^node scripts\/ensure-web-build\.ts && /);
    // What npm runs (`sh -c <script>`), without the web build this test does not need.
    const command = `${script.replace('node scripts/ensure-web-build.ts', 'true')} --port 0`;
    const child = spawn('sh', ['-c', command], { cwd: root, env: { ...env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30_000;
    let healthz: string | undefined;
    while (!healthz && Date.now() < deadline && child.exitCode === null) {
      healthz = /Liveness\s+(\S+)/.exec(out)?.[1];
      if (!healthz) await new Promise((r) => setTimeout(r, 50));
    }
    expect(healthz, out).toBeDefined();
    expect((await fetch(healthz!)).status).toBe(200);
    child.kill('SIGTERM');
    // The shell's process is the server itself: it shuts down gracefully and exits 0 ...
    expect(await exited).toEqual({ code: 0, signal: null });
    // ... and nothing is left serving.
    await expect(fetch(healthz!, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});
