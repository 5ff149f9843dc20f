import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeyStoreError } from './keystore.ts';

export const MASTER_KEY_FILE = 'master.key';

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new KeyStoreError(`${where}: expected 32 bytes of base64, got ${key.length} bytes`);
  return key;
}

/**
 * The key that encrypts service keys at rest: TASDIQ_MASTER_KEY (base64, 32 bytes) when set,
 * otherwise `<dataDir>/master.key`, created readable by the owner only on first start. The
 * file is created exclusively, so two processes starting together agree on one key.
 */
export function loadMasterKey(options: { env?: NodeJS.ProcessEnv; dataDir: string }): Buffer {
  const fromEnv = (options.env ?? process.env).TASDIQ_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv !== '') return decode(fromEnv, 'TASDIQ_MASTER_KEY');
  const path = join(options.dataDir, MASTER_KEY_FILE);
  mkdirSync(options.dataDir, { recursive: true });
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('base64')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Another process may have created the file an instant ago and not yet written it.
  for (let attempt = 0; ; attempt++) {
    const text = readFileSync(path, 'utf8');
    if (text.trim() !== '' || attempt >= 20) return decode(text, path);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}
