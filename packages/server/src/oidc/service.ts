import type { Redis } from 'ioredis';
import { openRedis } from '../platform/redis.ts';
import type { Provider } from 'oidc-provider';
import type { AppContext } from '../platform/module.ts';
import { keyStoreFor } from '../platform/keys/index.ts';
import { recordAudit } from '../audit/audit.ts';
import { ClientRegistry } from '../clients/index.ts';
import { createProviderStorage, type ProviderStorage } from './storage/index.ts';
import { ProviderKeys, SigningKeyRotatedError } from './keys.ts';
import { buildProvider, KEY_RETENTION_MS } from './provider.ts';
import { ConsentRepository } from './consents.ts';
import { DatabaseCitizenDirectory, type CitizenDirectory } from './citizens.ts';
import { unavailableAuthenticator, type Authenticator } from './authenticator.ts';
import { CibaFollower } from './ciba.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Models whose rows belong to a grant. */
const GRANT_MEMBERS = ['AuthorizationCode', 'AccessToken', 'RefreshToken', 'BackchannelAuthenticationRequest', 'DeviceCode'] as const;

export interface OidcOptions {
  /** Device authentication (per running service); without one, nobody can sign in. */
  readonly authenticator?: Authenticator | ((context: AppContext) => Authenticator);
  readonly citizens?: CitizenDirectory;
  /** CIBA: how often one shared round asks whether pending requests were answered elsewhere. */
  readonly cibaPollIntervalMs?: number;
  /**
   * How the provider calls out (client jwks_uri, CIBA pings, back-channel logout). Default:
   * oidc-provider's fetch, which refuses private and loopback addresses.
   */
  readonly outboundFetch?: typeof fetch;
}

/**
 * The running OpenID provider: storage, keys and the oidc-provider instance. The instance is
 * rebuilt when the signing keys change (a rotation here or on another instance).
 */
export class OidcService {
  readonly context: AppContext;
  readonly storage: ProviderStorage;
  readonly keys: ProviderKeys;
  readonly registry: ClientRegistry;
  readonly consents: ConsentRepository;
  readonly authenticator: Authenticator;
  readonly citizens: CitizenDirectory;
  readonly ciba: CibaFollower;
  readonly #options: OidcOptions;
  readonly #redis: Redis | undefined;
  #provider: Provider | undefined;
  #callback: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  #kids = '';

  constructor(context: AppContext, options: OidcOptions = {}) {
    this.context = context;
    this.#options = options;
    this.#redis = context.config.redisUrl
      ? openRedis(context.config.redisUrl, context.logger, 'oidc', { maxRetriesPerRequest: 2 })
      : undefined;
    this.storage = createProviderStorage({ db: context.db, dialect: context.dialect, now: context.now, redis: this.#redis });
    this.keys = new ProviderKeys(keyStoreFor(context), context.db, context.now);
    this.registry = new ClientRegistry(context.db, context.now);
    this.consents = new ConsentRepository(context.db);
    const authenticator = options.authenticator ?? unavailableAuthenticator;
    this.authenticator = typeof authenticator === 'function' ? authenticator(context) : authenticator;
    this.citizens = options.citizens ?? new DatabaseCitizenDirectory(context.db);
    this.ciba = new CibaFollower({
      db: context.db,
      authenticator: this.authenticator,
      consents: this.consents,
      storage: this.storage,
      provider: () => this.provider,
      logger: context.logger,
      now: context.now,
      intervalMs: options.cibaPollIntervalMs ?? 1000,
    });
  }

  get provider(): Provider {
    if (!this.#provider) throw new Error('the OpenID provider is not started');
    return this.#provider;
  }

  /** The provider's request handler, built once per provider (Koa composes its middleware per call). */
  get callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
    this.#callback ??= this.provider.callback();
    return this.#callback;
  }

  async start(): Promise<void> {
    if (this.#redis) await this.#redis.connect();
    await this.storage.maintain();
    await this.reload();
    // CIBA requests pending when the service last stopped are followed again.
    const resumed = await this.ciba.resume();
    if (resumed > 0) this.context.logger.info({ resumed }, 'following pending CIBA requests again');
  }

  /** Rebuilds the provider when the published key set changed; cheap when it did not. */
  async reload(): Promise<void> {
    const signingKeys = await this.keys.signingKeys();
    const kids = signingKeys.map((k) => k.kid).join(',');
    if (this.#provider && kids === this.#kids) return;
    const provider = buildProvider({
      issuer: this.context.config.publicUrl,
      storage: this.storage,
      registry: this.registry,
      signingKeys,
      pairwiseSecret: await this.keys.derive('pairwise-subject'),
      cookieKeys: [(await this.keys.derive('cookies')).toString('base64url')],
      citizens: this.citizens,
      consents: this.consents,
      authenticator: this.authenticator,
      ciba: this.ciba,
      logger: this.context.logger,
      ...(this.#options.outboundFetch ? { outboundFetch: this.#options.outboundFetch } : {}),
    });
    provider.on('server_error', (_ctx, error) => {
      if (error instanceof SigningKeyRotatedError) void this.reload();
      else this.context.logger.error({ err: error }, 'OpenID provider error');
    });
    this.#provider = provider;
    this.#callback = undefined;
    this.#kids = kids;
  }

  /**
   * The citizen withdraws consent for a service: recorded (and audited) at once, and every
   * grant they gave it is revoked with its codes and tokens, refresh tokens included. The
   * next sign-in to that service asks again. False when there was no consent.
   */
  async withdrawConsent(citizenId: string, clientId: string, actor: { deviceId: string; requestId?: string }): Promise<boolean> {
    const now = this.context.now();
    const withdrawn = await this.context.db.transaction().execute(async (tx) => {
      if (!(await this.consents.withdraw(citizenId, clientId, now, tx))) return false;
      await recordAudit(
        tx,
        {
          actorType: 'citizen',
          actorId: citizenId,
          action: 'oidc.consent_withdrawn',
          subjectCitizenId: citizenId,
          details: { clientId, deviceId: actor.deviceId },
          ...(actor.requestId ? { requestId: actor.requestId } : {}),
        },
        now,
      );
      return true;
    });
    for (const grantId of await this.storage.grantsOf(citizenId, clientId)) {
      for (const model of GRANT_MEMBERS) await this.storage.adapterFor(model).revokeByGrantId(grantId);
      await this.storage.adapterFor('Grant').destroy(grantId);
    }
    return withdrawn;
  }

  /** New signing keys now; old ones stay published until the tokens they signed expire. */
  async rotateKeys(): Promise<void> {
    await this.keys.rotate();
    await this.reload();
  }

  /** Periodic upkeep: expire state, retire old keys, pick up rotations from other instances. */
  async maintain(): Promise<void> {
    await this.storage.maintain();
    // CIBA requests nobody answered (their instance went away): gone once expired.
    await this.context.db.deleteFrom('oidc_ciba_attempts').where('expires_at', '<=', this.context.now()).execute();
    const retired = await this.keys.retireExpired(KEY_RETENTION_MS);
    if (retired.length > 0) this.context.logger.info({ retired }, 'retired old OpenID signing keys');
    await this.reload();
  }

  async stop(): Promise<void> {
    this.ciba.stop();
    this.#redis?.disconnect();
  }
}
