import { ConfigError, integerSetting } from '../../platform/config.ts';
import { InMemoryRegistry, loadRegistryFile } from './file-registry.ts';
import { HttpRegistry } from './http-registry.ts';
import { demoRegistryCitizens } from './demo-data.ts';
import type { PopulationRegistry } from './types.ts';

export * from './types.ts';
export { InMemoryRegistry, loadRegistryFile, documentKey } from './file-registry.ts';
export { parseRegistryCitizen, type RecordCheck } from './record.ts';
export { HttpRegistry, signRequest, verifySignedRequest, bodyDigest, type HttpRegistryOptions } from './http-registry.ts';
export { demoRegistryCitizens, DEMO_CITIZEN_COUNT } from './demo-data.ts';

let demo: InMemoryRegistry | undefined;

/** The synthetic registry (built once per process; it is immutable). */
export function demoRegistry(): InMemoryRegistry {
  return (demo ??= new InMemoryRegistry(demoRegistryCitizens(), 'demo'));
}

/**
 * Chooses the registry from the environment (see docs/identity.md):
 *   TASDIQ_REGISTRY=demo | file:/path/to/registry.json | https://registry.example/api
 * Without it, development instances use the demo registry and production has none (every
 * lookup is `registry_unavailable`), so a misconfigured production never enrolls from fakes.
 * Plain http: is accepted in development only. Bad settings are a `ConfigError` at start.
 */
export function registryFromEnvironment(env: NodeJS.ProcessEnv, development: boolean): PopulationRegistry | undefined {
  const setting = env.TASDIQ_REGISTRY?.trim();
  if (!setting) return development ? demoRegistry() : undefined;
  if (setting === 'demo') return demoRegistry();
  if (setting.startsWith('file:')) return loadRegistryFile(setting.slice('file:'.length));
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(setting);
  } catch {
    problems.push('TASDIQ_REGISTRY must be demo, file:/path/registry.json or an https:// URL');
  }
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && development)) {
    problems.push(`TASDIQ_REGISTRY must be an https:// URL${url.protocol === 'http:' ? ' (plain http is allowed only with TASDIQ_DEVELOPMENT)' : ''}`);
  }
  const timeoutMs = integerSetting(env, 'TASDIQ_REGISTRY_TIMEOUT_MS', undefined, 1, 120_000, problems);
  const retries = integerSetting(env, 'TASDIQ_REGISTRY_RETRIES', undefined, 0, 10, problems);
  const tls = env.TASDIQ_REGISTRY_CERT && env.TASDIQ_REGISTRY_KEY;
  if (!!env.TASDIQ_REGISTRY_CERT !== !!env.TASDIQ_REGISTRY_KEY) problems.push('TASDIQ_REGISTRY_CERT and TASDIQ_REGISTRY_KEY go together (mutual TLS)');
  if (!tls && !env.TASDIQ_REGISTRY_HMAC_SECRET) problems.push('the HTTP registry needs mutual TLS (TASDIQ_REGISTRY_CERT, TASDIQ_REGISTRY_KEY) or signed requests (TASDIQ_REGISTRY_HMAC_SECRET)');
  if (problems.length > 0) throw new ConfigError(problems);
  return new HttpRegistry({
    baseUrl: setting,
    allowPlainHttp: development,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(tls
      ? {
          tls: {
            certPath: env.TASDIQ_REGISTRY_CERT!,
            keyPath: env.TASDIQ_REGISTRY_KEY!,
            ...(env.TASDIQ_REGISTRY_CA ? { caPath: env.TASDIQ_REGISTRY_CA } : {}),
          },
        }
      : {}),
    ...(env.TASDIQ_REGISTRY_HMAC_SECRET
      ? { hmac: { keyId: env.TASDIQ_REGISTRY_HMAC_KEY_ID ?? 'tasdiq', secret: env.TASDIQ_REGISTRY_HMAC_SECRET } }
      : {}),
  });
}
