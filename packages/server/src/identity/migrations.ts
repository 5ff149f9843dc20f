import { sql } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';

export const identityMigrations: ModuleMigration[] = [
  {
    name: '202611250720_identity_citizens',
    async up(db, { types }) {
      await db.schema
        .createTable('citizens')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('pinfl', types.text, (c) => c.notNull().unique())
        .addColumn('surname_latn', types.text, (c) => c.notNull())
        .addColumn('given_name_latn', types.text, (c) => c.notNull())
        .addColumn('patronymic_latn', types.text, (c) => c.notNull())
        .addColumn('surname_cyrl', types.text, (c) => c.notNull())
        .addColumn('given_name_cyrl', types.text, (c) => c.notNull())
        .addColumn('patronymic_cyrl', types.text, (c) => c.notNull())
        .addColumn('birth_date', types.text, (c) => c.notNull())
        .addColumn('sex', types.text, (c) => c.notNull())
        .addColumn('citizenship', types.text, (c) => c.notNull())
        .addColumn('photo', types.text)
        .addColumn('demo', types.flag, (c) => c.notNull().defaultTo(0))
        .addColumn('source', types.text, (c) => c.notNull())
        .addColumn('imported_at', types.time, (c) => c.notNull())
        .addColumn('updated_at', types.time, (c) => c.notNull())
        .addColumn('row_version', types.int, (c) => c.notNull().defaultTo(1))
        .addCheckConstraint('citizens_sex_check', sql`sex in ('M', 'F')`)
        .execute();
      await db.schema
        .createTable('identity_documents')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('citizen_id', types.id, (c) => c.notNull().references('citizens.id'))
        .addColumn('kind', types.text, (c) => c.notNull())
        .addColumn('series', types.text, (c) => c.notNull())
        .addColumn('number', types.text, (c) => c.notNull())
        .addColumn('issued_on', types.text, (c) => c.notNull())
        .addColumn('expires_on', types.text, (c) => c.notNull())
        .addColumn('issuing_office', types.text, (c) => c.notNull())
        .addCheckConstraint('identity_documents_kind_check', sql`kind in ('id_card', 'passport')`)
        .execute();
      await db.schema.createIndex('identity_documents_number_idx').on('identity_documents').columns(['series', 'number']).unique().execute();
      await db.schema.createIndex('identity_documents_citizen_idx').on('identity_documents').column('citizen_id').execute();
    },
  },
];
