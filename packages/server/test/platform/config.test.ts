import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.dataDir.endsWith('/data')).toBe(true);
  });

  it('reports every bad value at once, naming the variable', () => {
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', PUBLIC_URL: 'ftp://x', TASDIQ_DEVELOPMENT: 'maybe' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT: expected an integer from 0 to 65535, got "eighty"/);
      expect(problems).toMatch(/LOG_LEVEL: expected one of/);
      expect(problems).toMatch(/DATABASE_URL: expected a postgres/);
      expect(problems).toMatch(/PUBLIC_URL: expected an http\(s\) URL/);
      expect(problems).toMatch(/TASDIQ_DEVELOPMENT: expected true or false/);
    }
  });

  it('reads a JSON file, lets the environment win, and rejects unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-config-'));
    const file = join(dir, 'tasdiq.json');
    writeFileSync(file, JSON.stringify({ port: 4000, logLevel: 'warn' }));
    const config = loadConfig({ TASDIQ_CONFIG: file, PORT: '4001' });
    expect(config.port).toBe(4001);
    expect(config.logLevel).toBe('warn');

    writeFileSync(file, JSON.stringify({ prot: 4000 }));
    expect(() => loadConfig({ TASDIQ_CONFIG: file })).toThrow(/unknown key "prot"/);
    writeFileSync(file, '{ not json');
    expect(() => loadConfig({ TASDIQ_CONFIG: file })).toThrow(/config file .*tasdiq\.json/);
  });
});
