import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/platform/db/index.ts';
import { migrateToLatest } from '../../server/src/platform/db/migrations.ts';
import { allMigrations } from '../../server/src/modules.ts';
import { OfficeRepository } from '../../server/src/offices/index.ts';
import { demoOffices } from '../../server/src/offices/demo.ts';
import { createHash } from 'node:crypto';

const BIN = resolve(import.meta.dirname, '../bin/tasdiq.js');
const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-cli-operator-'));
const env = { ...process.env, TASDIQ_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', PUBLIC_URL: 'https://tasdiq.example' };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function tasdiq(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 30_000 });
}

describe('tasdiq operator', () => {
  it('refuses missing arguments with usage errors', () => {
    expect(tasdiq('operator').status).toBe(2);
    const noOffice = tasdiq('operator', 'create-admin', '--name', 'A');
    expect([noOffice.status, noOffice.stderr]).toEqual([2, expect.stringMatching(/needs --office/)]);
    const badRole = tasdiq('operator', 'invite', '--name', 'A', '--office', 'psc-tk-01', '--role', 'king');
    expect([badRole.status, badRole.stderr]).toEqual([2, expect.stringMatching(/one of operator, notary, supervisor, admin/)]);
  });

  it('refuses an office that does not exist', () => {
    const result = tasdiq('operator', 'create-admin', '--name', 'Dilnoza Demo', '--office', 'psc-tk-01');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no office "psc-tk-01"/);
  });

  it('creates the first admin with a one-time registration link, stored only hashed', async () => {
    const database = openDatabase({ dataDir });
    try {
      await migrateToLatest(database.db as never, database.dialect, allMigrations());
      await new OfficeRepository(database.db).insertMissing(demoOffices(Date.now()));
    } finally {
      await database.close();
    }
    const result = tasdiq('operator', 'create-admin', '--name', 'Dilnoza Demo', '--office', 'psc-tk-01');
    expect(result.status, result.stderr).toBe(0);
    const link = /(https:\/\/tasdiq\.example\/console\/register\?token=([A-Za-z0-9_-]{43}))/.exec(result.stdout);
    expect(link, result.stdout).not.toBeNull();
    const check = openDatabase({ dataDir });
    try {
      const rows = await check.db.selectFrom('operator_invitations').innerJoin('operators', 'operators.id', 'operator_invitations.operator_id').select(['token_hash', 'role', 'status', 'name']).execute();
      expect(rows).toEqual([{ token_hash: createHash('sha256').update(link![2]!).digest('base64url'), role: 'admin', status: 'invited', name: 'Dilnoza Demo' }]);
    } finally {
      await check.close();
    }
    const list = tasdiq('operator', 'list');
    expect(list.stdout).toMatch(/admin\s+invited\s+psc-tk-01\s+Dilnoza Demo/);
  });
});
