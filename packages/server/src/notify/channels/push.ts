import type { Db } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { pushTargetsToWake, removePushTarget } from '../push-targets.ts';
import type { PushTarget, PushTargetKind } from '../schema.ts';
import { DeliveryError, type Channel, type DeliveryResult, type OutgoingMessage } from './channel.ts';

/**
 * What a push carries: only that there is something to fetch. The app then fetches the
 * request over the device protocol, so no personal data passes through Google or Apple.
 */
export interface WakePayload {
  readonly v: 1;
  readonly type: 'wake';
  readonly kind: string;
  /** The auth session (correlation id) or message id the app asks the server about. */
  readonly ref: string;
}

/** `id`: the provider's message id, when it gives one. */
export type PushOutcome = { readonly ok: true; readonly id?: string | undefined } | { readonly ok: false; readonly gone: boolean; readonly permanent: boolean; readonly error: string };

export interface PushProvider {
  send(address: string, payload: WakePayload): Promise<PushOutcome>;
  close?(): Promise<void>;
}

export class PushChannel implements Channel {
  readonly #db: Db;
  readonly #providers: Partial<Record<PushTargetKind, PushProvider>>;
  readonly #logger: Logger;

  constructor(db: Db, providers: Partial<Record<PushTargetKind, PushProvider>>, logger: Logger) {
    this.#db = db;
    this.#providers = providers;
    this.#logger = logger;
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    const targets = await pushTargetsToWake(this.#db, message.recipient);
    const usable = targets.filter((t) => this.#providers[t.kind]);
    if (usable.length === 0) throw new DeliveryError('the device has no push target a configured provider serves', { permanent: true, route: 'push' });
    const payload: WakePayload = { v: 1, type: 'wake', kind: message.kind, ref: message.correlationId ?? message.id };
    const results = await Promise.all(usable.map(async (target) => ({ target, outcome: await this.#send(target, payload) })));
    const accepted = results.filter((r) => r.outcome.ok);
    for (const { target, outcome } of results) {
      if (!outcome.ok && outcome.gone) {
        // The provider says the app was uninstalled or the subscription ended: keep no dead target.
        await removePushTarget(this.#db, target);
        this.#logger.info({ pushTarget: target.id, provider: target.kind }, 'push target gone; removed');
      }
    }
    if (accepted.length > 0) {
      return {
        route: [...new Set(accepted.map((r) => r.target.kind))].join('+'),
        // Provider message ids, for the record (no push service sends receipts).
        refs: accepted.flatMap((r) => (r.outcome.ok && r.outcome.id ? [`${r.target.kind}:${r.outcome.id}`] : [])),
      };
    }
    const failures = results.map((r) => r.outcome as Extract<PushOutcome, { ok: false }>);
    throw new DeliveryError(failures.map((f) => f.error).join('; ').slice(0, 500), {
      route: 'push',
      permanent: failures.every((f) => f.permanent || f.gone),
    });
  }

  async #send(target: PushTarget, payload: WakePayload): Promise<PushOutcome> {
    try {
      return await this.#providers[target.kind]!.send(target.address, payload);
    } catch (error) {
      return { ok: false, gone: false, permanent: false, error: `${target.kind}: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.#providers).map((p) => p.close?.()));
  }
}

/** Maps an HTTP status of a push service to what Tasdiq does next. */
export function pushHttpOutcome(provider: string, status: number, goneStatuses: readonly number[], detail = ''): PushOutcome {
  const gone = goneStatuses.includes(status);
  // 0: no HTTP answer at all (a timeout, a reset stream), which says nothing about the target.
  const retryable = status === 0 || status === 429 || status >= 500 || status === 408;
  return { ok: false, gone, permanent: !retryable, error: `${provider} answered ${status}${detail ? ` ${detail}` : ''}` };
}
