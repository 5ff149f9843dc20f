import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
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

describe('tasdiq client', { timeout: 120_000 }, () => {
  it('registers from a file, lists, disables, and explains a bad file field by field', () => {
    const good = join(dataDir, 'client.json');
    writeFileSync(good, JSON.stringify(sampleRegistration()));
    const registered = tasdiq('client', 'register', '--file', good);
    expect(registered.status, registered.stderr).toBe(0);
    expect(registered.stdout).toMatch(/registered soliq-portal \(private_key_jwt, pairwise subjects, sector my\.soliq\.uz\) at version 1/);

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
    expect(tasdiq('client', 'enable', '--id', 'soliq-portal').stdout).toMatch(/soliq-portal is active/);
  });

  it('shows a registration with its version, updates it from the edited file, and refuses a stale or unversioned update', () => {
    const shown = tasdiq('client', 'show', '--id', 'soliq-portal');
    expect(shown.status, shown.stderr).toBe(0);
    const document = JSON.parse(shown.stdout) as Record<string, unknown> & { version: number; redirect_uris: string[] };
    expect(document).toMatchObject({ client_id: 'soliq-portal', sector_identifier: 'my.soliq.uz', id_token_signed_response_alg: 'ES256' });
    expect(document.version).toBeGreaterThan(1);
    const edited = join(dataDir, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...document, redirect_uris: [...document.redirect_uris, 'https://my.soliq.uz/second'] }));

    const updated = tasdiq('client', 'update', '--id', 'soliq-portal', '--file', edited);
    expect(updated.status, updated.stderr).toBe(0);
    expect(updated.stdout).toBe(`updated soliq-portal to version ${document.version + 1}\n`);
    expect(JSON.parse(tasdiq('client', 'show', '--id', 'soliq-portal').stdout)).toMatchObject({
      redirect_uris: ['https://my.soliq.uz/callback', 'https://my.soliq.uz/second'],
      version: document.version + 1,
    });

    // The same file again is based on a version that is gone.
    const stale = tasdiq('client', 'update', '--id', 'soliq-portal', '--file', edited);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/client_version_conflict/);

    const { version: _version, ...unversioned } = JSON.parse(readFileSync(edited, 'utf8')) as Record<string, unknown>;
    writeFileSync(edited, JSON.stringify({ ...unversioned, sector_identifier: 'soliq.uz', jwks: { keys: [{ kty: 'EC', x: 'AA', y: 'AA' }] } }));
    const blind = tasdiq('client', 'update', '--id', 'soliq-portal', '--file', edited);
    expect(blind.status).toBe(2);
    expect(blind.stderr).toMatch(/needs the version you edited/);
    const refused = tasdiq('client', 'update', '--id', 'soliq-portal', '--file', edited, '--if-version', String(document.version + 1));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/client_invalid/);
    expect(refused.stderr).toMatch(/sector_identifier: sector_immutable: the sector cannot change: pairwise subjects are derived from it/);
    expect(refused.stderr).toMatch(/jwks\.keys\.0: jwk_crv_missing/);
    expect(tasdiq('client', 'update', '--id', 'nobody', '--file', edited, '--if-version', '1').stderr).toMatch(/client_not_found/);
    expect(tasdiq('client', 'show', '--id', 'nobody').stderr).toMatch(/client_not_found/);
    expect(tasdiq('client', 'update', '--file', edited).status).toBe(2);

    // The one change is in the audit log, as the CLI's, naming the field but not its value.
    const db = new DatabaseSync(join(dataDir, 'tasdiq.sqlite'), { readOnly: true });
    const events = db.prepare("select actor_type, actor_id, details from audit_events where action = 'clients.updated'").all();
    db.close();
    expect(events).toEqual([{ actor_type: 'system', actor_id: 'cli', details: JSON.stringify({ clientId: 'soliq-portal', changed: ['redirect_uris'], version: document.version + 1 }) }]);
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
