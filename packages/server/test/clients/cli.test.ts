import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRegistration } from './fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../../cli/bin/tasdiq.js');
const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-client-cli-'));
const env = { ...process.env, TASDIQ_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function tasdiq(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 30_000 });
}

describe('tasdiq client', () => {
  it('registers from a file, lists, disables, and explains a bad file field by field', () => {
    const good = join(dataDir, 'client.json');
    writeFileSync(good, JSON.stringify(sampleRegistration()));
    const registered = tasdiq('client', 'register', '--file', good);
    expect(registered.status, registered.stderr).toBe(0);
    expect(registered.stdout).toMatch(/registered soliq-portal \(private_key_jwt, pairwise subjects, sector my\.soliq\.uz\)/);

    const again = tasdiq('client', 'register', '--file', good);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/client_exists/);

    const bad = join(dataDir, 'bad.json');
    writeFileSync(bad, JSON.stringify(sampleRegistration({ client_id: 'other', redirect_uris: ['http://evil.example/cb'] })));
    const refused = tasdiq('client', 'register', '--file', bad);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/client_invalid/);
    expect(refused.stderr).toMatch(/redirect_uris\.0: url_not_https/);

    expect(tasdiq('client', 'list').stdout).toMatch(/^soliq-portal\s+active/m);
    expect(tasdiq('client', 'disable', 'soliq-portal').stdout).toMatch(/soliq-portal is disabled/);
    expect(tasdiq('client', 'list').stdout.trim()).toBe('');
    expect(tasdiq('client', 'list', '--all').stdout).toMatch(/^soliq-portal\s+disabled/m);
    expect(tasdiq('client', 'disable', 'nobody').stderr).toMatch(/client_not_found/);
    expect(tasdiq('client', 'register').status).toBe(2);
  });
});

describe('tasdiq oidc rotate-keys', () => {
  it('rotates both signing keys and says which are current', () => {
    const first = tasdiq('oidc', 'rotate-keys');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/new signing keys: oidc-es256\.v2, oidc-eddsa\.v2/);
    expect(tasdiq('oidc', 'rotate-keys').stdout).toMatch(/oidc-es256\.v3, oidc-eddsa\.v3/);
    expect(tasdiq('oidc', 'spin').status).toBe(2);
  });
});
