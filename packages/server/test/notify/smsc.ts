import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import smpp, { type Pdu, type Server, type Session } from 'smpp';

export interface SubmittedSms {
  readonly systemId: string;
  readonly destination: string;
  readonly text: string;
  readonly dataCoding: number;
  /** Concatenation header (ref, total, seq) when the submit was one part of a long SMS. */
  readonly concat: { ref: number; total: number; seq: number; bits: 8 | 16 } | undefined;
  readonly messageId: string;
  readonly at: number;
}

export interface TestSmscOptions {
  readonly systemId?: string;
  readonly password?: string;
  /** Receipt `stat` to send after each accepted submit (none when undefined). */
  readonly receipt?: 'DELIVRD' | 'UNDELIV' | undefined;
  /** Hold each submit_sm_resp this long (lets a test see the client's window). */
  readonly respondDelayMs?: number;
  /** Answer the first N submits with ESME_RTHROTTLED. */
  readonly throttleFirst?: number;
  /** Answer every accepted submit with this message id (a broken SMSC reusing ids). */
  readonly fixedMessageId?: string;
  /** Leave the first N bind requests unanswered (an SMSC that accepts TCP and then hangs). */
  readonly ignoreBinds?: number;
  /** Leave the first N enquire_link requests unanswered (a link that died silently). */
  readonly ignoreEnquireLinks?: number;
  /** Answer submit number N (1-based, counting all sessions) with ESME_RSYSERR, once. */
  readonly failSubmitNumber?: number;
}

/**
 * A real SMSC on loopback built on the `smpp` package's server: checks the bind, accepts
 * submit_sm, answers enquire_link and sends delivery receipts as deliver_sm, recording
 * everything it saw. Tests and the benchmark use it in place of an operator's SMSC.
 */
export class TestSmsc {
  readonly submits: SubmittedSms[] = [];
  readonly binds: string[] = [];
  maxOutstanding = 0;
  enquireLinks = 0;
  unbinds = 0;
  /** Bind requests seen, answered or not. */
  bindRequests = 0;
  #enquiresIgnored = 0;
  #submitsSeen = 0;
  options: TestSmscOptions;
  readonly #server: Server;
  readonly #sessions = new Set<Session>();
  /** Bound sessions that can take receipts (transceiver or receiver), per system id. */
  readonly #receivers = new Map<string, Set<Session>>();
  #throttled = 0;
  #outstanding = 0;
  /** Receipts not yet acknowledged, per system id; redelivered on the next bind, as SMSCs do. */
  readonly #unacked = new Map<string, Map<string, Record<string, unknown>>>();

  private constructor(options: TestSmscOptions) {
    this.options = options;
    this.#server = smpp.createServer((session) => this.#accept(session));
  }

  static async start(options: TestSmscOptions = {}): Promise<TestSmsc> {
    const smsc = new TestSmsc(options);
    await new Promise<void>((resolve) => smsc.#server.listen(0, '127.0.0.1', () => resolve()));
    return smsc;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Texts of accepted submits, long messages joined back from their parts. */
  messagesTo(destination: string): string[] {
    const out: string[] = [];
    const parts = new Map<string, SubmittedSms[]>();
    for (const s of this.submits.filter((x) => x.destination === destination)) {
      if (!s.concat) out.push(s.text);
      else {
        const key = `${s.concat.ref}/${s.concat.total}`;
        const list = parts.get(key) ?? [];
        list.push(s);
        parts.set(key, list);
        if (list.length === s.concat.total) out.push(list.sort((a, b) => a.concat!.seq - b.concat!.seq).map((p) => p.text).join(''));
      }
    }
    return out;
  }

  /** Drops every client connection at once, as an SMSC restart would. */
  dropAll(): void {
    for (const session of this.#sessions) session.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #sendReceipt(systemId: string, messageId: string, fields: Record<string, unknown>): void {
    const pending = this.#unacked.get(systemId) ?? new Map<string, Record<string, unknown>>();
    this.#unacked.set(systemId, pending);
    pending.set(messageId, fields);
    const session = [...(this.#receivers.get(systemId) ?? [])][0];
    if (!session) return; // kept until a receiver binds
    session.deliver_sm({ ...fields }, (resp: Pdu) => {
      if (resp.command_status === 0) pending.delete(messageId);
    });
  }

  /** Submits received and not answered yet. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Receipts sent but not acknowledged by the client yet. */
  get unackedReceipts(): number {
    let n = 0;
    for (const m of this.#unacked.values()) n += m.size;
    return n;
  }

  #accept(session: Session): void {
    this.#sessions.add(session);
    let systemId = '';
    let canSubmit = false;
    session.on('error', () => undefined);
    session.on('close', () => {
      this.#sessions.delete(session);
      this.#receivers.get(systemId)?.delete(session);
    });
    const bind = (type: 'transceiver' | 'transmitter' | 'receiver') => (pdu: Pdu) => {
      this.bindRequests += 1;
      if (this.bindRequests <= (this.options.ignoreBinds ?? 0)) return;
      const ok = (this.options.systemId ?? 'tasdiq') === pdu.system_id && (this.options.password ?? 'secret') === pdu.password;
      if (!ok) {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        session.close();
        return;
      }
      systemId = String(pdu.system_id);
      canSubmit = type !== 'receiver';
      this.binds.push(`${systemId}/${type}`);
      session.send(pdu.response({ system_id: 'testsmsc' }));
      if (type !== 'transmitter') {
        const set = this.#receivers.get(systemId) ?? new Set<Session>();
        set.add(session);
        this.#receivers.set(systemId, set);
        for (const [id, fields] of this.#unacked.get(systemId) ?? []) this.#sendReceipt(systemId, id, fields);
      }
    };
    session.on('bind_transceiver', bind('transceiver'));
    session.on('bind_transmitter', bind('transmitter'));
    session.on('bind_receiver', bind('receiver'));
    session.on('enquire_link', (pdu: Pdu) => {
      this.enquireLinks += 1;
      if (this.#enquiresIgnored < (this.options.ignoreEnquireLinks ?? 0)) {
        this.#enquiresIgnored += 1;
        return;
      }
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: Pdu) => {
      this.unbinds += 1;
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: Pdu) => {
      if (!canSubmit) {
        session.send(pdu.response({ command_status: 0x04 })); // ESME_RINVBNDSTS
        return;
      }
      this.#outstanding += 1;
      this.maxOutstanding = Math.max(this.maxOutstanding, this.#outstanding);
      this.#submitsSeen += 1;
      const number = this.#submitsSeen;
      const answer = () => {
        this.#outstanding -= 1;
        if (this.#throttled < (this.options.throttleFirst ?? 0)) {
          this.#throttled += 1;
          session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
          return;
        }
        if (number === this.options.failSubmitNumber) {
          session.send(pdu.response({ command_status: smpp.ESME_RSYSERR }));
          return;
        }
        const messageId = this.options.fixedMessageId ?? randomBytes(8).toString('hex');
        const sm = pdu.short_message as { message: string; udh?: Buffer[] };
        // Concatenation: IEI 0x00 (8-bit reference) or 0x08 (16-bit reference).
        const udh8 = sm.udh?.find((u) => u[0] === 0x00);
        const udh16 = sm.udh?.find((u) => u[0] === 0x08);
        this.submits.push({
          systemId,
          destination: String(pdu.destination_addr),
          text: String(sm.message),
          dataCoding: Number(pdu.data_coding),
          concat: udh16
            ? { ref: (udh16[2]! << 8) | udh16[3]!, total: udh16[4]!, seq: udh16[5]!, bits: 16 }
            : udh8
              ? { ref: udh8[2]!, total: udh8[3]!, seq: udh8[4]!, bits: 8 }
              : undefined,
          messageId,
          at: Date.now(),
        });
        session.send(pdu.response({ message_id: messageId }));
        const stat = this.options.receipt;
        if (stat && (Number(pdu.registered_delivery) & 0x03) !== 0) {
          const fields = {
            source_addr: pdu.destination_addr,
            destination_addr: pdu.source_addr,
            esm_class: 0x04,
            short_message: `id:${messageId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2611250700 done date:2611250700 stat:${stat} err:000 text:`,
            receipted_message_id: messageId,
            message_state: stat === 'DELIVRD' ? 2 : 5,
          };
          setImmediate(() => this.#sendReceipt(systemId, messageId, fields));
        }
      };
      if (this.options.respondDelayMs) setTimeout(answer, this.options.respondDelayMs);
      else answer();
    });
  }
}
