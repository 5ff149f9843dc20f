import { sql } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';

export const officeMigrations: ModuleMigration[] = [
  {
    name: '202611250700_offices',
    async up(db, { types }) {
      await db.schema
        .createTable('offices')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('kind', types.text, (c) => c.notNull())
        .addColumn('region', types.text, (c) => c.notNull())
        .addColumn('name_uz_latn', types.text, (c) => c.notNull())
        .addColumn('name_uz_cyrl', types.text, (c) => c.notNull())
        .addColumn('name_ru', types.text, (c) => c.notNull())
        .addColumn('name_en', types.text, (c) => c.notNull())
        .addColumn('address', types.text, (c) => c.notNull())
        .addColumn('active', types.flag, (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('row_version', types.int, (c) => c.notNull().defaultTo(1))
        .addCheckConstraint('offices_kind_check', sql`kind in ('public_services_center', 'notary')`)
        .execute();
      await db.schema.createIndex('offices_region_kind_idx').on('offices').columns(['region', 'kind', 'id']).execute();
    },
  },
];
