import { isDeepStrictEqual } from 'node:util';
import { ApiError, type FieldProblem } from '../platform/errors.ts';
import { isUniqueViolation, type Db, type Tx } from '../platform/db/index.ts';
import { recordAudit, type AuditInput } from '../audit/index.ts';
import { ClientErrors } from './errors.ts';
import { RelyingPartyRepository, type RelyingParty } from './repository.ts';
import { REGISTRATION_FIELDS, validateRegistration, type ClientRegistration } from './validation.ts';
import type { ClientStatus } from './schema.ts';

/** Who changes the registry, for the audit log (no personal data in it). */
export type RegistryActor = Pick<AuditInput, 'actorType' | 'actorId' | 'officeId' | 'requestId'>;
const CLI_ACTOR: RegistryActor = { actorType: 'system', actorId: 'cli' };

export interface RegistryOptions {
  /** A developer's machine: server-side endpoints may be http to localhost (see validation.ts). */
  readonly development?: boolean;
}

/** A registration as its document: what `tasdiq client show` prints and an update replaces. */
export function registrationDocument(rp: RelyingParty): ClientRegistration {
  return {
    client_id: rp.clientId,
    name: rp.name,
    redirect_uris: rp.redirectUris,
    post_logout_redirect_uris: rp.postLogoutRedirectUris,
    jwks: rp.jwks,
    jwks_uri: rp.jwksUri,
    token_endpoint_auth_method: rp.tokenEndpointAuthMethod,
    tls_client_auth_subject_dn: rp.tlsClientAuthSubjectDn,
    scopes: rp.scopes,
    acr_values: rp.acrValues,
    sector_identifier: rp.sectorIdentifier,
    subject_type: rp.subjectType,
    fapi: rp.fapi,
    contacts: rp.contacts,
    backchannel_logout_uri: rp.backchannelLogoutUri,
    ciba_delivery_mode: rp.cibaDeliveryMode,
    ciba_notification_endpoint: rp.cibaNotificationEndpoint,
    id_token_signed_response_alg: rp.idTokenSignedResponseAlg,
  };
}

/** The names of the fields that differ (never their values: keys and endpoints stay out of the audit log). */
function changedFields(before: ClientRegistration, after: ClientRegistration): string[] {
  return REGISTRATION_FIELDS.filter((field) => !isDeepStrictEqual(normalise(before[field]), normalise(after[field])));
}

/** Read-only arrays and plain ones compare alike; null and absent alike. */
function normalise(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SECTOR_IMMUTABLE =
  'the sector cannot change: pairwise subjects are derived from it, so every citizen would get a new "sub" at this ' +
  'service and its accounts and consents would no longer match; register a new client for a new sector';
const SUBJECT_TYPE_IMMUTABLE =
  'the subject type cannot change: every citizen would get a different "sub" at this service; register a new client instead';

/** Registration and lifecycle of relying parties, for the CLI and the admin console. */
export class ClientRegistry {
  readonly #db: Db;
  readonly #repository: RelyingPartyRepository;
  readonly #now: () => number;
  readonly #development: boolean;

  constructor(db: Db, now: () => number = Date.now, options: RegistryOptions = {}) {
    this.#db = db;
    this.#repository = new RelyingPartyRepository(db);
    this.#now = now;
    this.#development = options.development === true;
  }

  /** Registers a relying party and audits it in the same transaction. */
  async register(document: unknown, actor: RegistryActor = CLI_ACTOR): Promise<RelyingParty> {
    const result = await validateRegistration(document, { development: this.#development });
    if (!result.ok) throw new ApiError(ClientErrors.client_invalid, { errors: result.errors });
    const registration = result.value;
    const now = this.#now();
    try {
      await this.#db.transaction().execute(async (tx) => {
        await new RelyingPartyRepository(tx).insert(registration, now);
        await this.#audit(tx, actor, 'clients.registered', registration.client_id, now, {
          authMethod: registration.token_endpoint_auth_method,
          scopes: [...registration.scopes],
          fapi: registration.fapi,
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError(ClientErrors.client_exists, { params: { clientId: registration.client_id } });
      throw error;
    }
    return (await this.#repository.find(registration.client_id))!;
  }

  /**
   * Replaces a client's editable metadata with `document`, checked exactly like a registration,
   * if the client is still at `expectedVersion` (else `client_version_conflict`, nothing written).
   * `client_id`, `sector_identifier` and `subject_type` cannot change (omitted, they are kept):
   * pairwise subjects are derived from the sector, so changing either would give every citizen
   * a new subject at the service. The audit event names the changed fields, not their values.
   */
  async update(clientId: string, document: unknown, expectedVersion: number, actor: RegistryActor = CLI_ACTOR): Promise<RelyingParty> {
    const current = await this.#repository.find(clientId);
    if (!current) throw new ApiError(ClientErrors.client_not_found);
    if (current.version !== expectedVersion) throw this.#conflict(current);
    if (!isRecord(document)) throw new ApiError(ClientErrors.client_invalid, { errors: [{ field: '', code: 'not_object', message: 'expected a JSON object' }] });

    const immutable: FieldProblem[] = [];
    const complete: Record<string, unknown> = { ...document };
    const keep = (field: 'client_id' | 'sector_identifier' | 'subject_type', stored: string, code: string, message: string) => {
      if (complete[field] === undefined) complete[field] = stored;
      else if (complete[field] !== stored) immutable.push({ field, code, message });
    };
    keep('client_id', clientId, 'client_id_immutable', 'the client_id cannot change: it names the client in every token, grant and consent');
    keep('sector_identifier', current.sectorIdentifier, 'sector_immutable', SECTOR_IMMUTABLE);
    keep('subject_type', current.subjectType, 'subject_type_immutable', SUBJECT_TYPE_IMMUTABLE);
    const result = await validateRegistration(complete, { development: this.#development });
    const errors = [...immutable, ...(result.ok ? [] : result.errors)];
    if (!result.ok || errors.length > 0) throw new ApiError(ClientErrors.client_invalid, { errors });

    const registration = result.value;
    const changed = changedFields(registrationDocument(current), registration);
    if (changed.length === 0) return current;
    const now = this.#now();
    const written = await this.#db.transaction().execute(async (tx) => {
      // Conditional on the version read above: an edit that raced this one wins, this one fails.
      if (!(await new RelyingPartyRepository(tx).replace(clientId, registration, expectedVersion, now))) return false;
      await this.#audit(tx, actor, 'clients.updated', clientId, now, { changed, version: expectedVersion + 1 });
      return true;
    });
    const after = await this.#repository.find(clientId);
    if (!after) throw new ApiError(ClientErrors.client_not_found);
    if (!written) throw this.#conflict(after);
    return after;
  }

  #conflict(current: RelyingParty): ApiError {
    return new ApiError(ClientErrors.client_version_conflict, {
      detail: `The client is at version ${current.version} now.`,
      headers: { etag: etagOf(current) },
    });
  }

  async #audit(tx: Tx, actor: RegistryActor, action: string, clientId: string, now: number, details: Record<string, unknown> = {}): Promise<void> {
    await recordAudit(tx, { ...actor, action, details: { clientId, ...details } }, now);
  }

  async list(options: { status?: ClientStatus; after?: string; limit?: number } = {}): Promise<RelyingParty[]> {
    return this.#repository.list({ status: options.status, after: options.after, limit: options.limit ?? 100 });
  }

  /** An active client, or undefined for unknown and disabled ones alike. */
  async findActive(clientId: string): Promise<RelyingParty | undefined> {
    const client = await this.#repository.find(clientId);
    return client?.status === 'active' ? client : undefined;
  }

  async find(clientId: string): Promise<RelyingParty | undefined> {
    return this.#repository.find(clientId);
  }

  async setStatus(clientId: string, status: ClientStatus, actor: RegistryActor = CLI_ACTOR): Promise<RelyingParty> {
    const now = this.#now();
    const changed = await this.#db.transaction().execute(async (tx) => {
      if (!(await new RelyingPartyRepository(tx).setStatus(clientId, status, now))) return false;
      await this.#audit(tx, actor, status === 'disabled' ? 'clients.disabled' : 'clients.enabled', clientId, now);
      return true;
    });
    if (!changed) throw new ApiError(ClientErrors.client_not_found);
    return (await this.#repository.find(clientId))!;
  }
}

/** The HTTP entity tag of a client's current version. */
export function etagOf(rp: RelyingParty): string {
  return `"${rp.version}"`;
}

/**
 * The version an `If-Match` header names (`"3"`, `W/"3"`, or a list holding one), or undefined
 * when there is none usable (`*` would overwrite blindly, so it does not count).
 */
export function versionFromIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const tags = header.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length !== 1) return undefined;
  const match = /^(?:W\/)?"(\d{1,9})"$/.exec(tags[0]!);
  return match ? Number(match[1]) : undefined;
}
