import { ApiError } from '../platform/errors.ts';
import { isUniqueViolation, type Db } from '../platform/db/index.ts';
import { ClientErrors } from './errors.ts';
import { RelyingPartyRepository, type RelyingParty } from './repository.ts';
import { validateRegistration } from './validation.ts';
import type { ClientStatus } from './schema.ts';

/** Registration and lifecycle of relying parties, for the CLI and (later) the admin console. */
export class ClientRegistry {
  readonly #repository: RelyingPartyRepository;
  readonly #now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.#repository = new RelyingPartyRepository(db);
    this.#now = now;
  }

  async register(document: unknown): Promise<RelyingParty> {
    const result = validateRegistration(document);
    if (!result.ok) throw new ApiError(ClientErrors.client_invalid, { errors: result.errors });
    try {
      await this.#repository.insert(result.value, this.#now());
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError(ClientErrors.client_exists, { params: { clientId: result.value.client_id } });
      throw error;
    }
    return (await this.#repository.find(result.value.client_id))!;
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

  async setStatus(clientId: string, status: ClientStatus): Promise<RelyingParty> {
    if (!(await this.#repository.setStatus(clientId, status, this.#now()))) throw new ApiError(ClientErrors.client_not_found);
    return (await this.#repository.find(clientId))!;
  }
}
