import { ApiError } from '../platform/errors.ts';
import { isUniqueViolation, type Db, type Tx } from '../platform/db/index.ts';
import { recordAudit, type AuditInput } from '../audit/index.ts';
import { ClientErrors } from './errors.ts';
import { RelyingPartyRepository, type RelyingParty } from './repository.ts';
import { validateRegistration } from './validation.ts';
import type { ClientStatus } from './schema.ts';

/** Registration and lifecycle of relying parties, for the CLI and (later) the admin console. */
/** Who changes the registry, for the audit log (no personal data in it). */
export type RegistryActor = Pick<AuditInput, 'actorType' | 'actorId' | 'officeId' | 'requestId'>;
const CLI_ACTOR: RegistryActor = { actorType: 'system', actorId: 'cli' };

export class ClientRegistry {
  readonly #db: Db;
  readonly #repository: RelyingPartyRepository;
  readonly #now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#repository = new RelyingPartyRepository(db);
    this.#now = now;
  }

  /** Registers a relying party and audits it in the same transaction. */
  async register(document: unknown, actor: RegistryActor = CLI_ACTOR): Promise<RelyingParty> {
    const result = validateRegistration(document);
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
