import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../packages/web/', import.meta.url));
const BUILT_MARKER = join(WEB, 'dist', 'console', 'index.html');
// The apps also bundle code of other workspaces (the device-protocol client, the region table).
const SOURCES = ['src', 'console', 'app', 'welcome', 'public', 'scripts', 'vite.config.ts', 'package.json', '../client/src', '../server/src/offices/regions.ts', '../server/src/clients/vocabulary.ts'];
const LOCK = join(WEB, '.build-lock');

function newestMtime(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether packages/web/dist is missing or older than any of its sources. */
export function webBuildIsStale(): boolean {
  let builtAt: number;
  try {
    builtAt = statSync(BUILT_MARKER).mtimeMs;
  } catch {
    return true;
  }
  return SOURCES.some((source) => newestMtime(join(WEB, source)) > builtAt);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds the web apps when the build is missing or stale. Parallel callers (test files running
 * side by side) take turns through a lock directory, so none reads a half-written dist.
 */
export function ensureWebBuild(log: (line: string) => void = console.log): void {
  if (!webBuildIsStale()) return;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        // A lock older than three minutes was left by a build that died.
        if (Date.now() - statSync(LOCK).mtimeMs > 180_000) rmdirSync(LOCK);
      } catch {
        // Removed by its owner meanwhile: try again.
      }
      if (Date.now() > deadline) throw new Error(`web build lock ${LOCK} held for too long`);
      sleep(250);
    }
  }
  try {
    if (!webBuildIsStale()) return;
    log('[tasdiq] building the web apps (packages/web/dist is missing or older than its sources)');
    const vite = fileURLToPath(new URL('../node_modules/vite/bin/vite.js', import.meta.url));
    const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: WEB, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`web build failed (exit ${result.status ?? result.signal})`);
  } finally {
    rmdirSync(LOCK);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    ensureWebBuild();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
