import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, KNOWN_TASDIQ_VARIABLES, loadConfig, withBoundPort } from '../../src/platform/config.ts';

function problemsOf(env: NodeJS.ProcessEnv, overrides: Record<string, string | number | boolean> = {}, file?: string): string[] {
  try {
    loadConfig(env, overrides, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  return [];
}

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

describe('configuration validation, one variable at a time', () => {
  it.each(['0x50', '1e3', '+80', '-1', '65536', '80.0', '8 0', 'Infinity'])('refuses PORT=%s', (port) => {
    expect(problemsOf({ PORT: port })).toEqual([`PORT: expected an integer from 0 to 65535, got "${port}"`]);
  });

  it.each(['0', '80', '65535', ' 8080 '])('accepts PORT=%s', (port) => {
    expect(loadConfig({ PORT: port }).port).toBe(Number(port));
  });

  it.each(['not a host', 'http://x', 'exa_mple.uz', '-lead.uz', '[::1]', 'a'.repeat(64) + '.uz'])('refuses HOST=%s', (host) => {
    expect(problemsOf({ HOST: host })).toEqual([expect.stringMatching(/^HOST: expected an IP address or a host name/)]);
  });

  it.each(['0.0.0.0', '127.0.0.1', '::', '::1', 'localhost', 'id.example.uz'])('accepts HOST=%s', (host) => {
    expect(loadConfig({ HOST: host }).host).toBe(host);
  });

  it('derives PUBLIC_URL from HOST and PORT, bracketing IPv6 and naming wildcards localhost', () => {
    expect(loadConfig({ HOST: '::1', PORT: '4000' }).publicUrl).toBe('http://[::1]:4000');
    expect(loadConfig({ HOST: '0.0.0.0' }).publicUrl).toBe('http://localhost:3000');
    expect(loadConfig({ HOST: '::' }).publicUrl).toBe('http://localhost:3000');
  });

  it.each([
    ['postgres://', /names no host/],
    ['postgres://?sslmode=require', /names no host/],
    ['postgresql://user:hunter2@/db', /expected a URL like/],
    ['postgres:x', /names no host/],
    ['mysql://user:hunter2@db/x', /expected a postgres:\/\/ or postgresql:\/\/ URL/],
    ['not a url with hunter2', /expected a URL like postgres:\/\/user:password@host:5432\/database \(the value is not shown/],
  ])('refuses DATABASE_URL=%s without echoing a password', (url, message) => {
    const problems = problemsOf({ DATABASE_URL: url });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^DATABASE_URL: ${message.source}`))]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('accepts PostgreSQL URLs by host or by socket directory', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db.internal:5432/tasdiq' }).databaseUrl).toBe('postgres://u:p@db.internal:5432/tasdiq');
    expect(loadConfig({ DATABASE_URL: 'postgresql:///tasdiq?host=/var/run/postgresql' }).databaseUrl).toBeDefined();
  });

  it.each([
    ['https://id.example.uz/?next=1', /must not have a query or fragment/],
    ['https://id.example.uz#top', /must not have a query or fragment/],
    ['https://id.example.uz/?', /must not have a query or fragment/],
    ['https://admin:pw@id.example.uz', /must not hold a user name or password/],
    ['ftp://id.example.uz', /expected an http\(s\) URL/],
    ['id.example.uz', /expected an http\(s\) URL/],
  ])('refuses PUBLIC_URL=%s', (url, message) => {
    expect(problemsOf({ PUBLIC_URL: url })).toEqual([expect.stringMatching(new RegExp(`^PUBLIC_URL: ${message.source}`))]);
  });

  it('accepts a PUBLIC_URL with a path and drops its trailing slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://gov.example.uz/tasdiq/' }).publicUrl).toBe('https://gov.example.uz/tasdiq');
  });

  it('refuses a TASDIQ_DATA_DIR that is a file, or lies under one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-config-'));
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(problemsOf({ TASDIQ_DATA_DIR: file })).toEqual([`TASDIQ_DATA_DIR: ${file} is a file, not a directory`]);
    expect(problemsOf({ TASDIQ_DATA_DIR: join(file, 'data') })).toEqual([`TASDIQ_DATA_DIR: cannot create ${join(file, 'data')}: ${file} is a file, not a directory`]);
    expect(loadConfig({ TASDIQ_DATA_DIR: join(dir, 'not', 'yet', 'there') }).dataDir).toBe(join(dir, 'not', 'yet', 'there'));
  });

  it('type-checks config file values, naming the variable and the file key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasdiq-config-'));
    const file = join(dir, 'tasdiq.json');
    writeFileSync(file, JSON.stringify({ host: {}, port: 80.5, logLevel: 5, development: 'maybe', publicUrl: ['https://x.uz'], rateLimitPerMinute: '120' }));
    expect(problemsOf({}, {}, file)).toEqual([
      'HOST (config file key "host"): expected a string, got an object',
      'PORT (config file key "port"): expected an integer from 0 to 65535, got "80.5"',
      'LOG_LEVEL (config file key "logLevel"): expected a string, got the number 5',
      'PUBLIC_URL (config file key "publicUrl"): expected a string, got an array',
      'TASDIQ_DEVELOPMENT (config file key "development"): expected true or false, got "maybe"',
    ]);
    writeFileSync(file, JSON.stringify({ host: '0.0.0.0', port: 8080, development: true, rateLimitPerMinute: '120' }));
    expect(loadConfig({}, {}, file)).toMatchObject({ host: '0.0.0.0', port: 8080, development: true, rateLimitPerMinute: 120 });
    writeFileSync(file, JSON.stringify({ dataDri: './x' }));
    expect(problemsOf({}, {}, file)).toEqual([expect.stringMatching(/unknown key "dataDri" \(did you mean "dataDir"\?\)/)]);
  });

  it('checks TASDIQ_METRICS_TOKEN without echoing it', () => {
    expect(problemsOf({ TASDIQ_METRICS_TOKEN: 'short-secret' })).toEqual([expect.stringMatching(/^TASDIQ_METRICS_TOKEN: expected at least 16 visible ASCII/)]);
    expect(problemsOf({ TASDIQ_METRICS_TOKEN: 'short-secret' }).join()).not.toContain('short-secret');
    expect(loadConfig({ TASDIQ_METRICS_TOKEN: 'a-long-enough-scrape-token' }).metricsToken).toBe('a-long-enough-scrape-token');
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ HOST: 'bad host', PORT: '0x50', DATABASE_URL: 'postgres://', PUBLIC_URL: 'https://x.uz/?a', TASDIQ_SHUTDOWN_GRACE_SECONDS: '1e3' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['HOST', 'PORT', 'DATABASE_URL', 'PUBLIC_URL', 'TASDIQ_SHUTDOWN_GRACE_SECONDS']);
  });

  it('warns about a misspelt TASDIQ_* variable, naming the closest known one', () => {
    const config = loadConfig({ TASDIQ_DATADIR: '/tmp/x', TASDIQ_SHUTDOWN_GRACE_SECOND: '5', TASDIQ_WHATEVER_ELSE: '1', TASDIQ_DEVELOPMENT: '1' });
    expect(config.warnings).toEqual([
      'TASDIQ_DATADIR is not a Tasdiq setting and is ignored; did you mean TASDIQ_DATA_DIR?',
      'TASDIQ_SHUTDOWN_GRACE_SECOND is not a Tasdiq setting and is ignored; did you mean TASDIQ_SHUTDOWN_GRACE_SECONDS?',
      'TASDIQ_WHATEVER_ELSE is not a Tasdiq setting and is ignored',
    ]);
    expect(loadConfig({ TASDIQ_MASTER_KEY: 'x', TASDIQ_SMS_CHANNEL: 'dev' }).warnings).toEqual([]);
  });

  it('knows every TASDIQ_* variable the sources read', () => {
    const root = resolve(import.meta.dirname, '../../../..');
    const found = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name === 'node_modules' || name === 'dist' || name === 'data' || name.startsWith('.')) continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        // This file spells variables wrong on purpose.
        else if (/\.(ts|tsx|js|mjs)$/.test(name) && path !== import.meta.filename) {
          // `env.TASDIQ_X`, `env['TASDIQ_X']` and names passed around as strings ('TASDIQ_X').
          for (const match of readFileSync(path, 'utf8').matchAll(/(?:\benv\.|['"`])(TASDIQ_[A-Z0-9_]*[A-Z0-9])\b/g)) found.add(match[1]!);
        }
      }
    };
    for (const dir of ['packages', 'examples', 'scripts', 'bench', 'test']) walk(join(root, dir));
    found.delete('TASDIQ_REQUEST'); // an APNs localisation key, not a variable
    expect(found.size).toBeGreaterThan(10);
    expect([...found].filter((name) => !KNOWN_TASDIQ_VARIABLES.includes(name)).sort(), 'add them to KNOWN_TASDIQ_VARIABLES in platform/config.ts').toEqual([]);
  });

  it('follows the bound port when PORT=0 and PUBLIC_URL is derived, and keeps an explicit PUBLIC_URL', () => {
    const derived = loadConfig({ PORT: '0' });
    expect(derived.publicUrl).toBe('http://127.0.0.1:0');
    expect(withBoundPort(derived, 41234)).toMatchObject({ port: 41234, publicUrl: 'http://127.0.0.1:41234' });
    const explicit = loadConfig({ PORT: '0', PUBLIC_URL: 'https://id.example.uz' });
    expect(withBoundPort(explicit, 41234)).toMatchObject({ port: 41234, publicUrl: 'https://id.example.uz' });
  });
});
