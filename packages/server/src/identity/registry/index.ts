import { InMemoryRegistry, loadRegistryFile } from './file-registry.ts';
import { HttpRegistry } from './http-registry.ts';
import { demoRegistryCitizens } from './demo-data.ts';
import type { PopulationRegistry } from './types.ts';

export * from './types.ts';
export { InMemoryRegistry, loadRegistryFile } from './file-registry.ts';
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
 */
export function registryFromEnvironment(env: NodeJS.ProcessEnv, development: boolean): PopulationRegistry | undefined {
  const setting = env.TASDIQ_REGISTRY?.trim();
  if (!setting) return development ? demoRegistry() : undefined;
  if (setting === 'demo') return demoRegistry();
  if (setting.startsWith('file:')) return loadRegistryFile(setting.slice('file:'.length));
  const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const timeoutMs = num('TASDIQ_REGISTRY_TIMEOUT_MS');
  const retries = num('TASDIQ_REGISTRY_RETRIES');
  return new HttpRegistry({
    baseUrl: setting,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(env.TASDIQ_REGISTRY_CERT && env.TASDIQ_REGISTRY_KEY
      ? {
          tls: {
            certPath: env.TASDIQ_REGISTRY_CERT,
            keyPath: env.TASDIQ_REGISTRY_KEY,
            ...(env.TASDIQ_REGISTRY_CA ? { caPath: env.TASDIQ_REGISTRY_CA } : {}),
          },
        }
      : {}),
    ...(env.TASDIQ_REGISTRY_HMAC_SECRET
      ? { hmac: { keyId: env.TASDIQ_REGISTRY_HMAC_KEY_ID ?? 'tasdiq', secret: env.TASDIQ_REGISTRY_HMAC_SECRET } }
      : {}),
  });
}
