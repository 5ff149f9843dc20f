import { errors, type GrantInstance, type Provider } from 'oidc-provider';
import type { Db } from '../platform/db/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { Authenticator, PollResult } from './authenticator.ts';
import type { ConsentRepository } from './consents.ts';
import type { ProviderStorage } from './storage/index.ts';
import { meetsAcr } from './acr.ts';
import { consentCovers, PROTOCOL_CLAIMS, requestedClaimNames, claimsOfScopes } from './claims.ts';
import { grantFor, saveGrant } from './grants.ts';

/** A CIBA request waiting for the phone. */
export interface CibaAttempt {
  readonly jti: string;
  readonly attemptId: string;
  readonly accountId: string;
  readonly clientId: string;
  /** Acceptable acr values, weakest first. */
  readonly acceptable: readonly string[];
  readonly expiresAt: number;
}

/** Most attempts asked about in one `settled` call, and polled one by one per tick without it. */
const SETTLED_BATCH = 500;
const POLL_BATCH = 50;

/**
 * What a CIBA request may be granted: the scopes (beyond `openid`) and claims it asks for must
 * be covered by a consent the citizen gave this client on the consent page and has not
 * withdrawn. CIBA has no screen to ask on, so without one the answer is access_denied.
 */
export async function assertCibaConsent(
  consents: ConsentRepository,
  accountId: string,
  clientId: string,
  request: { readonly scope?: string | undefined; readonly claims?: unknown },
): Promise<{ scopes: string[]; claims: string[] }> {
  const scopes = String(request.scope ?? '').split(' ').filter(Boolean);
  const claims = requestedClaimNames(request.claims).filter((c) => !PROTOCOL_CLAIMS.has(c));
  const consent = await consents.find(accountId, clientId);
  if (!consentCovers(consent, scopes, claims)) {
    throw new errors.AccessDenied(
      'the citizen has not consented to this service receiving the requested scopes or claims; CIBA can only use a consent given at a browser sign-in (authorization endpoint) and not withdrawn',
    );
  }
  return { scopes, claims };
}

/**
 * Follows pending CIBA requests until the phone answers, for every request at once: in-process
 * completions wake it through the authenticator's `watch`; completions elsewhere (another
 * instance, a restart) are found by one bounded poll per tick over all of them. Each pending
 * request is a row of `oidc_ciba_attempts`, so a restarted service resumes following it; the
 * instance that deletes the row is the one that answers it.
 */
export class CibaFollower {
  readonly #db: Db;
  readonly #authenticator: Authenticator;
  readonly #consents: ConsentRepository;
  readonly #storage: ProviderStorage;
  readonly #provider: () => Provider;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #pending = new Map<string, { attempt: CibaAttempt; unwatch: () => void }>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #cursor = 0;
  #stopped = false;

  constructor(deps: {
    db: Db;
    authenticator: Authenticator;
    consents: ConsentRepository;
    storage: ProviderStorage;
    provider: () => Provider;
    logger: Logger;
    now: () => number;
    intervalMs: number;
  }) {
    this.#db = deps.db;
    this.#authenticator = deps.authenticator;
    this.#consents = deps.consents;
    this.#storage = deps.storage;
    this.#provider = deps.provider;
    this.#logger = deps.logger;
    this.#now = deps.now;
    this.#intervalMs = deps.intervalMs;
  }

  /** How many requests this instance follows now. */
  get size(): number {
    return this.#pending.size;
  }

  /** Records a new pending request and follows it. */
  async follow(attempt: CibaAttempt): Promise<void> {
    await this.#db
      .insertInto('oidc_ciba_attempts')
      .values({ jti: attempt.jti, attempt_id: attempt.attemptId, account_id: attempt.accountId, client_id: attempt.clientId, acceptable: JSON.stringify(attempt.acceptable), expires_at: attempt.expiresAt })
      .execute();
    this.#track(attempt);
  }

  /** Start-up: follows the requests that were pending when the service (or another instance) stopped. */
  async resume(): Promise<number> {
    const now = this.#now();
    await this.#db.deleteFrom('oidc_ciba_attempts').where('expires_at', '<=', now).execute();
    const rows = await this.#db.selectFrom('oidc_ciba_attempts').selectAll().where('expires_at', '>', now).execute();
    for (const row of rows) {
      this.#track({ jti: row.jti, attemptId: row.attempt_id, accountId: row.account_id, clientId: row.client_id, acceptable: JSON.parse(row.acceptable) as string[], expiresAt: row.expires_at });
    }
    return rows.length;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const { unwatch } of this.#pending.values()) unwatch();
    this.#pending.clear();
  }

  #track(attempt: CibaAttempt): void {
    if (this.#stopped || this.#pending.has(attempt.jti)) return;
    const unwatch = this.#authenticator.watch?.(attempt.attemptId, () => void this.#check([attempt.jti])) ?? (() => undefined);
    this.#pending.set(attempt.jti, { attempt, unwatch });
    this.start();
  }

  /** One bounded round: expired requests dropped, then at most a batch asked about. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#pending.size === 0) return;
    this.#ticking = true;
    try {
      const now = this.#now();
      for (const [jti, { attempt }] of this.#pending) {
        if (attempt.expiresAt <= now) await this.#drop(jti, { cancel: true });
      }
      const jtis = [...this.#pending.keys()];
      if (jtis.length === 0) return;
      // Round-robin through the pending requests, a bounded batch per tick.
      const batch = this.#authenticator.settled ? SETTLED_BATCH : POLL_BATCH;
      if (this.#cursor >= jtis.length) this.#cursor = 0;
      const slice = jtis.slice(this.#cursor, this.#cursor + batch);
      this.#cursor += batch;
      if (this.#authenticator.settled) {
        const byAttempt = new Map(slice.map((jti) => [this.#pending.get(jti)!.attempt.attemptId, jti]));
        const over = await this.#authenticator.settled([...byAttempt.keys()]);
        await this.#check(over.map((id) => byAttempt.get(id)!).filter(Boolean));
      } else {
        await this.#check(slice);
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'CIBA follow-up round failed');
    } finally {
      this.#ticking = false;
    }
  }

  async #check(jtis: readonly string[]): Promise<void> {
    for (const jti of jtis) {
      const entry = this.#pending.get(jti);
      if (!entry) continue;
      try {
        const result = await this.#authenticator.poll(entry.attempt.attemptId);
        if (result.status === 'pending') continue;
        await this.#answer(entry.attempt, result);
      } catch (error) {
        this.#logger.error({ err: error, attemptId: entry.attempt.attemptId }, 'CIBA request could not be completed');
      }
    }
  }

  /** Forgets a request; true when this instance claimed its row (and so may answer it). */
  async #drop(jti: string, options: { cancel?: boolean } = {}): Promise<boolean> {
    const entry = this.#pending.get(jti);
    this.#pending.delete(jti);
    entry?.unwatch();
    const deleted = await this.#db.deleteFrom('oidc_ciba_attempts').where('jti', '=', jti).executeTakeFirst();
    if (options.cancel && entry) await this.#authenticator.cancel?.(entry.attempt.attemptId);
    return Number(deleted.numDeletedRows) === 1;
  }

  async #answer(attempt: CibaAttempt, result: Exclude<PollResult, { status: 'pending' }>): Promise<void> {
    if (!(await this.#drop(attempt.jti))) return;
    const provider = this.#provider();
    if (result.status === 'insufficient') {
      await provider.backchannelResult(attempt.jti, new errors.AccessDenied(`the citizen authenticated at ${result.acr}, below the level requested`));
      return;
    }
    if (result.status !== 'approved') {
      await provider.backchannelResult(attempt.jti, new errors.AccessDenied(`the citizen did not approve (${result.status})`));
      return;
    }
    if (result.citizenId !== attempt.accountId || !meetsAcr(result.acr, attempt.acceptable)) {
      await provider.backchannelResult(attempt.jti, new errors.AccessDenied('the authentication did not meet the request'));
      return;
    }
    const request = await provider.BackchannelAuthenticationRequest.find(attempt.jti);
    if (!request) return;
    let granted: { scopes: string[]; claims: string[] };
    try {
      // Consent may have been withdrawn while the phone was being answered.
      granted = await assertCibaConsent(this.#consents, attempt.accountId, attempt.clientId, { scope: request.scope as string | undefined, claims: request.claims });
    } catch (error) {
      await provider.backchannelResult(attempt.jti, error as InstanceType<typeof errors.AccessDenied>);
      return;
    }
    const grant: GrantInstance = await grantFor(provider, this.#storage, attempt.accountId, attempt.clientId);
    if (granted.scopes.length > 0) grant.addOIDCScope(granted.scopes.join(' '));
    const claims = [...granted.claims, ...claimsOfScopes(granted.scopes)];
    if (claims.length > 0) grant.addOIDCClaims(claims);
    await saveGrant(grant);
    await provider.backchannelResult(attempt.jti, grant, { acr: result.acr, amr: result.amr, authTime: Math.floor(result.authTime / 1000) });
  }
}
