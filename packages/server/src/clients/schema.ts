import type { Generated, Selectable } from 'kysely';

export const TOKEN_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const;
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number];

export const SUBJECT_TYPES = ['pairwise', 'public'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

export const CIBA_MODES = ['poll', 'ping'] as const;
export type CibaMode = (typeof CIBA_MODES)[number];

/** How ID tokens are signed for a client: ES256 by default; EdDSA on request. */
export const ID_TOKEN_ALGS = ['ES256', 'EdDSA'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

export const CLIENT_STATUSES = ['active', 'disabled'] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

/** A relying party: a service that signs citizens in through Tasdiq. Registered by an admin. */
export interface RelyingPartyTable {
  client_id: string;
  name_uz_latn: string;
  name_uz_cyrl: string;
  name_ru: string;
  name_en: string;
  /** JSON array of exact-match redirect URIs. */
  redirect_uris: string;
  /** JSON array of exact-match post-logout redirect URIs. */
  post_logout_redirect_uris: string;
  /** JSON Web Key Set (public keys only) or null when jwks_uri is used. */
  jwks: string | null;
  jwks_uri: string | null;
  token_endpoint_auth_method: TokenAuthMethod;
  /** Subject DN the client's certificate must carry (tls_client_auth only). */
  tls_client_auth_subject_dn: string | null;
  /** JSON array of scopes the client may ask for. */
  scopes: string;
  /** JSON array of acr values the client may ask for. */
  acr_values: string;
  /** Pairwise subjects are computed per sector; services of one organisation share one. */
  sector_identifier: string;
  subject_type: SubjectType;
  /** 0/1: hold this client to the FAPI 2.0 security profile. */
  fapi: number;
  /** JSON array of contact e-mail addresses. */
  contacts: string;
  backchannel_logout_uri: string | null;
  ciba_delivery_mode: CibaMode | null;
  ciba_notification_endpoint: string | null;
  id_token_signed_response_alg: IdTokenAlg;
  status: ClientStatus;
  created_at: number;
  updated_at: number;
  /** Bumped by every change; the precondition of an update (optimistic concurrency). */
  row_version: Generated<number>;
}

export type RelyingPartyRow = Selectable<RelyingPartyTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    relying_parties: RelyingPartyTable;
  }
}
