import { sql } from 'kysely';
import type { ModuleMigration } from '../platform/db/migrations.ts';

export const clientMigrations: ModuleMigration[] = [
  {
    name: '202611250900_clients_relying_parties',
    async up(db, { types }) {
      await db.schema
        .createTable('relying_parties')
        .addColumn('client_id', types.id, (c) => c.primaryKey())
        .addColumn('name_uz_latn', types.text, (c) => c.notNull())
        .addColumn('name_uz_cyrl', types.text, (c) => c.notNull())
        .addColumn('name_ru', types.text, (c) => c.notNull())
        .addColumn('name_en', types.text, (c) => c.notNull())
        .addColumn('redirect_uris', types.json, (c) => c.notNull())
        .addColumn('post_logout_redirect_uris', types.json, (c) => c.notNull())
        .addColumn('jwks', types.json)
        .addColumn('jwks_uri', types.text)
        .addColumn('token_endpoint_auth_method', types.text, (c) => c.notNull())
        .addColumn('tls_client_auth_subject_dn', types.text)
        .addColumn('scopes', types.json, (c) => c.notNull())
        .addColumn('acr_values', types.json, (c) => c.notNull())
        .addColumn('sector_identifier', types.text, (c) => c.notNull())
        .addColumn('subject_type', types.text, (c) => c.notNull())
        .addColumn('fapi', types.flag, (c) => c.notNull().defaultTo(0))
        .addColumn('contacts', types.json, (c) => c.notNull())
        .addColumn('backchannel_logout_uri', types.text)
        .addColumn('ciba_delivery_mode', types.text)
        .addColumn('ciba_notification_endpoint', types.text)
        .addColumn('status', types.text, (c) => c.notNull())
        .addColumn('created_at', types.time, (c) => c.notNull())
        .addColumn('updated_at', types.time, (c) => c.notNull())
        .addColumn('row_version', types.int, (c) => c.notNull().defaultTo(1))
        .addCheckConstraint(
          'relying_parties_auth_check',
          sql`token_endpoint_auth_method in ('private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth')`,
        )
        .addCheckConstraint('relying_parties_subject_check', sql`subject_type in ('pairwise', 'public')`)
        .addCheckConstraint('relying_parties_status_check', sql`status in ('active', 'disabled')`)
        .addCheckConstraint('relying_parties_ciba_check', sql`ciba_delivery_mode is null or ciba_delivery_mode in ('poll', 'ping')`)
        .execute();
    },
  },
  {
    // Issue 5: a client may ask for EdDSA-signed ID tokens; ES256 stays the default.
    name: '202611251100_clients_id_token_alg',
    async up(db, { types }) {
      await db.schema
        .alterTable('relying_parties')
        .addColumn('id_token_signed_response_alg', types.text, (c) =>
          c.notNull().defaultTo('ES256').check(sql`id_token_signed_response_alg in ('ES256', 'EdDSA')`),
        )
        .execute();
    },
  },
];
