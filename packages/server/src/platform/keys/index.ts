import type { TasdiqModule } from '../module.ts';
import type { AppContext } from '../module.ts';
import { keyMigrations } from './migrations.ts';
import { DbKeyStore } from './db-keystore.ts';
import { loadMasterKey } from './master-key.ts';
import type { KeyStore } from './keystore.ts';

export { DbKeyStore } from './db-keystore.ts';
export { loadMasterKey } from './master-key.ts';
export { KeyStoreError, type KeyStore, type KeyAlgorithm, type PublicJwk } from './keystore.ts';

const stores = new WeakMap<AppContext, KeyStore>();

/** One key store per running service, shared by every module that signs. */
export function keyStoreFor(context: AppContext): KeyStore {
  let store = stores.get(context);
  if (!store) {
    store = new DbKeyStore(context.db, loadMasterKey({ dataDir: context.config.dataDir }), context.now);
    stores.set(context, store);
  }
  return store;
}

export const keysModule: TasdiqModule = {
  name: 'keys',
  migrations: keyMigrations,
};
