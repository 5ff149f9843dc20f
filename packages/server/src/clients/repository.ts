import type { Db, Tx } from '../platform/db/index.ts';
import type { Translations } from '../platform/i18n.ts';
import type { CibaMode, ClientStatus, IdTokenAlg, RelyingPartyRow, SubjectType, TokenAuthMethod } from './schema.ts';
import { isClientId, type ClientRegistration } from './validation.ts';

/** A registered relying party with its JSON columns parsed. */
export interface RelyingParty {
  readonly clientId: string;
  readonly name: Translations;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly jwksUri: string | null;
  readonly tokenEndpointAuthMethod: TokenAuthMethod;
  readonly tlsClientAuthSubjectDn: string | null;
  readonly scopes: readonly string[];
  readonly acrValues: readonly string[];
  readonly sectorIdentifier: string;
  readonly subjectType: SubjectType;
  readonly fapi: boolean;
  readonly contacts: readonly string[];
  readonly backchannelLogoutUri: string | null;
  readonly cibaDeliveryMode: CibaMode | null;
  readonly cibaNotificationEndpoint: string | null;
  readonly idTokenSignedResponseAlg: IdTokenAlg;
  readonly status: ClientStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Bumped by every change: the precondition an update names (optimistic concurrency). */
  readonly version: number;
}

function parse(row: RelyingPartyRow): RelyingParty {
  return {
    clientId: row.client_id,
    name: { 'uz-Latn': row.name_uz_latn, 'uz-Cyrl': row.name_uz_cyrl, ru: row.name_ru, en: row.name_en },
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as RelyingParty['jwks']),
    jwksUri: row.jwks_uri,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    tlsClientAuthSubjectDn: row.tls_client_auth_subject_dn,
    scopes: JSON.parse(row.scopes) as string[],
    acrValues: JSON.parse(row.acr_values) as string[],
    sectorIdentifier: row.sector_identifier,
    subjectType: row.subject_type,
    fapi: row.fapi === 1,
    contacts: JSON.parse(row.contacts) as string[],
    backchannelLogoutUri: row.backchannel_logout_uri,
    cibaDeliveryMode: row.ciba_delivery_mode,
    cibaNotificationEndpoint: row.ciba_notification_endpoint,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.row_version),
  };
}

/** The columns a registration document sets: everything but the id, status and times. */
function metadataColumns(registration: ClientRegistration) {
  return {
    name_uz_latn: registration.name['uz-Latn'],
    name_uz_cyrl: registration.name['uz-Cyrl'],
    name_ru: registration.name.ru,
    name_en: registration.name.en,
    redirect_uris: JSON.stringify(registration.redirect_uris),
    post_logout_redirect_uris: JSON.stringify(registration.post_logout_redirect_uris),
    jwks: registration.jwks === null ? null : JSON.stringify(registration.jwks),
    jwks_uri: registration.jwks_uri,
    token_endpoint_auth_method: registration.token_endpoint_auth_method,
    tls_client_auth_subject_dn: registration.tls_client_auth_subject_dn,
    scopes: JSON.stringify(registration.scopes),
    acr_values: JSON.stringify(registration.acr_values),
    sector_identifier: registration.sector_identifier,
    subject_type: registration.subject_type,
    fapi: registration.fapi ? 1 : 0,
    contacts: JSON.stringify(registration.contacts),
    backchannel_logout_uri: registration.backchannel_logout_uri,
    ciba_delivery_mode: registration.ciba_delivery_mode,
    ciba_notification_endpoint: registration.ciba_notification_endpoint,
    id_token_signed_response_alg: registration.id_token_signed_response_alg,
  };
}

export class RelyingPartyRepository {
  readonly #db: Db | Tx;
  constructor(db: Db | Tx) {
    this.#db = db;
  }

  async insert(registration: ClientRegistration, now: number): Promise<void> {
    await this.#db
      .insertInto('relying_parties')
      .values({
        client_id: registration.client_id,
        ...metadataColumns(registration),
        status: 'active',
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  async find(clientId: string): Promise<RelyingParty | undefined> {
    // Callers pass what a request named (an OAuth client_id, an assertion's issuer): an id
    // that could never have been registered is not looked up.
    if (!isClientId(clientId)) return undefined;
    const row = await this.#db.selectFrom('relying_parties').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row ? parse(row) : undefined;
  }

  async list(options: { status?: ClientStatus | undefined; after?: string | undefined; limit: number }): Promise<RelyingParty[]> {
    let q = this.#db.selectFrom('relying_parties').selectAll();
    if (options.status) q = q.where('status', '=', options.status);
    if (options.after) q = q.where('client_id', '>', options.after);
    const rows = await q.orderBy('client_id').limit(options.limit).execute();
    return rows.map(parse);
  }

  /**
   * Replaces the editable metadata if the row is still at `expectedVersion`; false when it is
   * not (changed meanwhile, or gone). The version check and the write are one statement.
   */
  async replace(clientId: string, registration: ClientRegistration, expectedVersion: number, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('relying_parties')
      .set((eb) => ({ ...metadataColumns(registration), updated_at: now, row_version: eb('row_version', '+', 1) }))
      .where('client_id', '=', clientId)
      .where('row_version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Returns false when no such client exists. */
  async setStatus(clientId: string, status: ClientStatus, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('relying_parties')
      .set((eb) => ({ status, updated_at: now, row_version: eb('row_version', '+', 1) }))
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
