import type { Selectable } from 'kysely';

/**
 * Provider state (oidc-provider models) in SQL. Short-lived state goes to a ring of
 * `RING_SLOTS` tables, one per expiry bucket: a slot is emptied whole when its bucket has
 * passed, so expiry never scans a big table. Long-lived state (sessions, grants, refresh
 * tokens) and anything beyond the ring's horizon goes to `oidc_durable`, purged by expiry
 * index in small batches.
 */
export interface OidcStateTable {
  model: string;
  id: string;
  /** JSON payload as oidc-provider gave it. */
  payload: string;
  grant_id: string | null;
  /** Session uid (sessions are looked up by it). */
  uid: string | null;
  expires_at: number;
  consumed_at: number | null;
}

/** The durable table also knows whose grant a row is, so withdrawing consent can find them. */
export interface OidcDurableTable extends OidcStateTable {
  account_id: string | null;
  client_id: string | null;
}

export type OidcStateRow = Selectable<OidcStateTable>;

/** Which expiry bucket each ring slot holds now. */
export interface OidcRingTable {
  slot: number;
  bucket: number;
}

/** When a signing key stopped being current; it is retired once tokens it signed expired. */
export interface OidcKeyRotationTable {
  kid: string;
  superseded_at: number;
}

/** Consents a citizen gave a relying party: which claims (scopes) it may receive. */
export interface OidcConsentTable {
  citizen_id: string;
  client_id: string;
  /** JSON array of scopes the citizen agreed to. */
  scopes: string;
  /** JSON array of individual claims (the `claims` request parameter) beyond those scopes. */
  claims: string;
  granted_at: number;
  withdrawn_at: number | null;
}

/**
 * CIBA requests waiting for the phone, so a restarted service resumes following them. A row
 * lives from the request to its answer (at most the request's lifetime, minutes); expired
 * ones are deleted by the maintenance through the expiry index. Small by construction.
 */
export interface OidcCibaAttemptTable {
  /** The BackchannelAuthenticationRequest id (auth_req_id). */
  jti: string;
  attempt_id: string;
  account_id: string;
  client_id: string;
  /** JSON array of acceptable acr values, weakest first. */
  acceptable: string;
  expires_at: number;
}

export const RING_SLOTS = 8;
export const RING_TABLES = [
  'oidc_ring_0',
  'oidc_ring_1',
  'oidc_ring_2',
  'oidc_ring_3',
  'oidc_ring_4',
  'oidc_ring_5',
  'oidc_ring_6',
  'oidc_ring_7',
] as const;
export type RingTableName = (typeof RING_TABLES)[number];

declare module '../platform/db/types.ts' {
  interface Database {
    oidc_ring_0: OidcStateTable;
    oidc_ring_1: OidcStateTable;
    oidc_ring_2: OidcStateTable;
    oidc_ring_3: OidcStateTable;
    oidc_ring_4: OidcStateTable;
    oidc_ring_5: OidcStateTable;
    oidc_ring_6: OidcStateTable;
    oidc_ring_7: OidcStateTable;
    oidc_durable: OidcDurableTable;
    oidc_ring_slots: OidcRingTable;
    oidc_key_rotations: OidcKeyRotationTable;
    oidc_consents: OidcConsentTable;
    oidc_ciba_attempts: OidcCibaAttemptTable;
  }
}
