/**
 * The whole database schema as Kysely sees it. Each module adds its own tables by
 * augmenting this interface from its `schema.ts`:
 *
 *   declare module '../platform/db/types.ts' {
 *     interface Database { offices: OfficeTable }
 *   }
 *
 * so the platform never imports a module and a module never edits the platform.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Database {}

export type Dialect = 'sqlite' | 'postgres';
