import type { ColumnDataType } from 'kysely';
import type { Dialect } from './types.ts';

/**
 * Column types chosen so both databases hold the same values and Kysely returns the same
 * JavaScript types from each: times are epoch milliseconds, flags are 0/1 integers, JSON is
 * text. The schema-parity test holds both databases to this.
 */
export function columnTypes(dialect: Dialect) {
  return {
    id: 'text',
    text: 'text',
    /** Epoch milliseconds. */
    time: 'bigint',
    int: 'integer',
    bigint: 'bigint',
    /** 0 or 1. */
    flag: 'integer',
    json: 'text',
    bytes: dialect === 'postgres' ? 'bytea' : 'blob',
  } as const satisfies Record<string, ColumnDataType>;
}
export type ColumnTypes = ReturnType<typeof columnTypes>;

/**
 * Whether both databases can hold this text as it is: PostgreSQL's text refuses U+0000 (the
 * statement fails), and a lone surrogate half is not Unicode, so it could only be stored
 * mangled. A lookup by such a key finds nothing; input carrying one is refused (platform/http).
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\0') && value.isWellFormed();
}
