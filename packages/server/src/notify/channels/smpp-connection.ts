import { randomInt } from 'node:crypto';
import smpp, { type Pdu, type Session } from 'smpp';
import type { Logger } from '../../platform/logger.ts';
import { splitSms } from '../sms-segments.ts';
import { DeliveryError } from './channel.ts';

/** One SMSC connection as configured in TASDIQ_SMPP_ROUTES. */
export interface SmppRouteConfig {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly systemType: string;
  /**
   * `transceiver`: one bind sends and receives receipts. `transmitter`: submits go over a
   * transmitter bind and receipts come over a second, receiver bind to the same SMSC.
   */
  readonly mode: 'transceiver' | 'transmitter';
  /** Destination prefixes (E.164 with +) this SMSC serves, e.g. "+99890". */
  readonly prefixes: readonly string[];
  /** Unanswered submit_sm at most at once (the operator's window). */
  readonly windowSize: number;
  /** submit_sm per second at most (each segment counts). */
  readonly ratePerSecond: number;
  readonly sourceAddr: string;
  readonly enquireLinkMs: number;
  /** How long to wait for any response before the connection counts as dead. */
  readonly responseTimeoutMs: number;
}

export type BindType = 'transceiver' | 'transmitter' | 'receiver';

export type ReceiptHandler = (ref: string, stat: string) => Promise<void> | void;

const RECEIPT_ESM_CLASS = 0x04;
const RETRY_LATER_STATUSES = new Set([smpp.ESME_RTHROTTLED, smpp.ESME_RMSGQFUL]);
/** The SMSC's own trouble, not the message's: the attempt fails but the outbox retries it. */
const TRANSIENT_STATUSES = new Set([smpp.ESME_RSYSERR]);
/** Concatenated SMS with a 16-bit reference (3GPP TS 23.040 9.2.3.24.8). */
const CONCAT16_IEI = 0x08;
/** SMPP 3.4 "ESME receiver temporary app error": the SMSC retries the deliver_sm later. */
const ESME_RX_T_APPN = 0x64;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads `id:` and `stat:` from a receipt's text (SMPP 3.4 appendix B) or its TLVs. */
export function parseReceipt(pdu: Pdu): { id: string; stat: string } | undefined {
  const sm = pdu.short_message as { message?: unknown } | Buffer | undefined;
  const raw = Buffer.isBuffer(sm) ? sm.toString('latin1') : typeof sm?.message === 'string' ? sm.message : Buffer.isBuffer(sm?.message) ? sm.message.toString('latin1') : '';
  const tlvId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined;
  const id = tlvId ?? /\bid:(\S+)/i.exec(raw)?.[1];
  const stat = /\bstat:(\w+)/i.exec(raw)?.[1]?.toUpperCase();
  if (!id || !stat) return undefined;
  return { id, stat };
}

/**
 * A bound session to one SMSC that stays bound: it reconnects with backoff after any drop,
 * keeps the link alive with enquire_link, never has more than `windowSize` submits
 * unanswered and never submits faster than `ratePerSecond`.
 */
export class SmppConnection {
  readonly config: SmppRouteConfig;
  readonly #logger: Logger;
  readonly #onReceipt: ReceiptHandler;
  #session: Session | undefined;
  #bound = false;
  #stopped = false;
  #failures = 0;
  #inFlight = 0;
  #nextSendAt = 0;
  #waiters: Array<() => void> = [];
  #boundWaiters: Array<() => void> = [];
  #enquireTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Response callbacks to fail when the session dies under them. */
  #pending = new Set<(error: Error) => void>();
  /** Count of successful binds, so tests and metrics can see reconnects. */
  binds = 0;

  readonly bindType: BindType;

  constructor(config: SmppRouteConfig, options: { logger: Logger; onReceipt: ReceiptHandler; bindType?: BindType }) {
    this.config = config;
    this.bindType = options.bindType ?? config.mode;
    this.#logger = options.logger.child({ smsc: config.name, bind: this.bindType });
    this.#onReceipt = options.onReceipt;
  }

  get bound(): boolean {
    return this.#bound;
  }

  start(): void {
    this.#stopped = false;
    this.#open();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#enquireTimer);
    const session = this.#session;
    const wasBound = this.#bound;
    this.#session = undefined;
    this.#bound = false;
    for (const fail of this.#pending) fail(new DeliveryError('SMSC connection stopped', { route: this.config.name }));
    for (const wake of this.#boundWaiters.splice(0)) wake();
    if (!session) return;
    await new Promise<void>((resolve) => {
      const socket = session.socket;
      if (socket.destroyed) return resolve();
      const force = setTimeout(() => socket.destroy(), 500);
      socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      // Unbind politely so the SMSC frees the bind at once instead of at its timeout.
      if (wasBound && socket.writable) session.unbind({}, () => session.close());
      else socket.destroy();
    });
  }

  #open(): void {
    if (this.#stopped) return;
    const session = smpp.connect({ host: this.config.host, port: this.config.port });
    this.#session = session;
    // An SMSC that accepts the connection but never answers the bind (or a connect that
    // hangs) would leave the route dead for good: give up on it and let the backoff retry.
    const bindTimer = setTimeout(() => {
      this.#logger.warn({ timeoutMs: this.config.responseTimeoutMs }, 'SMSC did not answer the bind in time; reconnecting');
      session.destroy();
    }, this.config.responseTimeoutMs);
    session.on('error', (error: Error) => {
      this.#logger.warn({ err: { message: error.message } }, 'SMSC connection error');
    });
    session.on('close', () => {
      clearTimeout(bindTimer);
      this.#onClose(session);
    });
    session.on('connect', () => {
      const bind = { transceiver: session.bind_transceiver, transmitter: session.bind_transmitter, receiver: session.bind_receiver }[this.bindType].bind(session);
      bind(
        { system_id: this.config.systemId, password: this.config.password, system_type: this.config.systemType, interface_version: 0x34 },
        (pdu: Pdu) => {
          clearTimeout(bindTimer);
          if (this.#session !== session) return;
          if (pdu.command_status !== 0) {
            this.#logger.error({ status: pdu.command_status }, 'SMSC refused the bind');
            session.destroy();
            return;
          }
          this.#bound = true;
          this.#failures = 0;
          this.binds += 1;
          this.#logger.info('bound to SMSC');
          this.#enquireTimer = setInterval(() => this.#enquire(session), this.config.enquireLinkMs);
          for (const wake of this.#boundWaiters.splice(0)) wake();
          this.#wakeWindow();
        },
      );
    });
    session.on('enquire_link', (pdu: Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: Pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('deliver_sm', (pdu: Pdu) => {
      const receipt = (Number(pdu.esm_class) & RECEIPT_ESM_CLASS) !== 0 ? parseReceipt(pdu) : undefined;
      if (!receipt) {
        session.send(pdu.response());
        return;
      }
      // Acknowledge only once the receipt is recorded: an SMSC redelivers what was not
      // acknowledged, so a crash here loses no receipt.
      Promise.resolve()
        .then(() => this.#onReceipt(`${this.config.name}:${receipt.id}`, receipt.stat))
        .then(
          () => session.send(pdu.response()),
          () => session.send(pdu.response({ command_status: ESME_RX_T_APPN })),
        );
    });
  }

  #enquire(session: Session): void {
    const timer = setTimeout(() => {
      this.#logger.warn('SMSC did not answer enquire_link; reconnecting');
      session.destroy();
    }, this.config.responseTimeoutMs);
    const sent = session.enquire_link({}, () => clearTimeout(timer));
    if (!sent) clearTimeout(timer);
  }

  #onClose(session: Session): void {
    if (this.#session !== session) return;
    clearInterval(this.#enquireTimer);
    const wasBound = this.#bound;
    this.#bound = false;
    this.#session = undefined;
    for (const fail of [...this.#pending]) fail(new DeliveryError('SMSC connection dropped before it answered', { route: this.config.name }));
    if (this.#stopped) return;
    this.#failures += 1;
    // Exponential backoff with full jitter, so many workers do not reconnect in lockstep.
    const cap = Math.min(10_000, 100 * 2 ** Math.min(this.#failures, 10));
    const delay = wasBound && this.#failures === 1 ? 50 : randomInt(Math.max(1, cap / 2), cap + 1);
    this.#logger.warn({ delayMs: delay }, 'SMSC connection closed; reconnecting');
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
  }

  async #waitBound(timeoutMs: number): Promise<Session> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#bound || !this.#session) {
      if (this.#stopped) throw new DeliveryError('SMSC connection stopped', { route: this.config.name });
      const left = deadline - Date.now();
      if (left <= 0) throw new DeliveryError('SMSC not bound', { route: this.config.name });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#boundWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.#session;
  }

  #wakeWindow(): void {
    while (this.#inFlight < this.config.windowSize && this.#waiters.length > 0) {
      this.#inFlight += 1;
      this.#waiters.shift()!();
    }
  }

  async #acquireSlot(): Promise<void> {
    if (this.#inFlight < this.config.windowSize && this.#waiters.length === 0) {
      this.#inFlight += 1;
    } else {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    // Spacing submits evenly enforces the rate without bursts the SMSC would throttle.
    const now = Date.now();
    const at = Math.max(now, this.#nextSendAt);
    this.#nextSendAt = at + 1000 / this.config.ratePerSecond;
    if (at > now) await sleep(at - now);
  }

  #releaseSlot(): void {
    this.#inFlight -= 1;
    this.#wakeWindow();
  }

  /** Submits one segment; resolves to the SMSC's message id. */
  async #submitPdu(fields: Record<string, unknown>): Promise<string> {
    for (let throttled = 0, rebinds = 0; ; throttled++) {
      const session = await this.#waitBound(5_000);
      await this.#acquireSlot();
      if ((this.#session !== session || !this.#bound) && rebinds < 3) {
        // The session dropped while this submit waited for the window: nothing was sent yet,
        // so wait for the next bind instead of failing the attempt.
        this.#releaseSlot();
        rebinds += 1;
        throttled -= 1;
        continue;
      }
      let pdu: Pdu;
      try {
        pdu = await new Promise<Pdu>((resolve, reject) => {
          const fail = (error: Error) => {
            clearTimeout(timer);
            this.#pending.delete(fail);
            reject(error);
          };
          const timer = setTimeout(() => {
            fail(new DeliveryError('SMSC did not answer submit_sm in time', { route: this.config.name }));
            session.destroy();
          }, this.config.responseTimeoutMs);
          this.#pending.add(fail);
          const sent = session.submit_sm({ ...fields }, (response: Pdu) => {
            clearTimeout(timer);
            this.#pending.delete(fail);
            resolve(response);
          });
          if (!sent) fail(new DeliveryError('SMSC connection not writable', { route: this.config.name }));
        });
      } finally {
        this.#releaseSlot();
      }
      if (pdu.command_status === 0) return String(pdu.message_id);
      if (RETRY_LATER_STATUSES.has(pdu.command_status) && throttled < 5) {
        await sleep(Math.min(2_000, 100 * 2 ** throttled) + randomInt(0, 50));
        continue;
      }
      // Throttling that outlasts our retries and a system error are transient; anything else the SMSC rejected
      // (bad destination, bad data) will be rejected again, so retrying only wastes time.
      throw new DeliveryError(`SMSC rejected submit_sm with status 0x${pdu.command_status.toString(16)}`, {
        route: this.config.name,
        permanent: !RETRY_LATER_STATUSES.has(pdu.command_status) && !TRANSIENT_STATUSES.has(pdu.command_status),
      });
    }
  }

  /**
   * Submits a text, split into concatenated segments (UDH IEI 0x08, a random 16-bit
   * reference, so several worker processes texting one phone do not mix their parts) when it
   * does not fit one, each asking for a delivery receipt. Resolves to one `<route>:<id>` ref
   * per segment. If a later segment fails, the error carries the refs of those accepted.
   */
  async submit(destination: string, text: string): Promise<string[]> {
    const { encoding, parts } = splitSms(text, 16);
    const dataCoding = encoding === 'gsm7' ? 0x00 : 0x08;
    const base = {
      source_addr_ton: /^\d+$/.test(this.config.sourceAddr) ? 1 : 5,
      source_addr_npi: /^\d+$/.test(this.config.sourceAddr) ? 1 : 0,
      source_addr: this.config.sourceAddr,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: destination.replace(/^\+/, ''),
      registered_delivery: 1,
      data_coding: dataCoding,
    };
    const refs: string[] = [];
    const named = () => refs.map((id) => `${this.config.name}:${id}`);
    try {
      if (parts.length === 1) {
        refs.push(await this.#submitPdu({ ...base, short_message: text }));
      } else {
        const ref = randomInt(0, 0x10000);
        for (const [index, part] of parts.entries()) {
          const udh = Buffer.from([0x06, CONCAT16_IEI, 0x04, ref >> 8, ref & 0xff, parts.length, index + 1]);
          refs.push(await this.#submitPdu({ ...base, short_message: { udh, message: part } }));
        }
      }
    } catch (error) {
      if (refs.length === 0 || !(error instanceof DeliveryError)) throw error;
      throw new DeliveryError(`${error.message} (after ${refs.length} of ${parts.length} segments)`, { route: error.route, permanent: error.permanent, refs: named() });
    }
    return named();
  }
}
