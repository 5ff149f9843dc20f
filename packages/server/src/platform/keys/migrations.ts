import type { ModuleMigration } from '../db/migrations.ts';

export const keyMigrations: ModuleMigration[] = [
  {
    name: '202611250705_keys_service_keys',
    async up(db, { types }) {
      await db.schema
        .createTable('service_keys')
        .addColumn('kid', types.id, (c) => c.primaryKey())
        .addColumn('name', types.text, (c) => c.notNull())
        .addColumn('version', types.int, (c) => c.notNull())
        .addColumn('alg', types.text, (c) => c.notNull())
        .addColumn('public_jwk', types.json, (c) => c.notNull())
        .addColumn('private_key', types.bytes, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('retired_at', types.time)
        .addUniqueConstraint('service_keys_name_version_uq', ['name', 'version'])
        .execute();
    },
  },
];
