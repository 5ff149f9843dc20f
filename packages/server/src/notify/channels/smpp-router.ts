import type { Logger } from '../../platform/logger.ts';
import { DeliveryError, type SmsTransport } from './channel.ts';
import { SmppConnection, type ReceiptHandler, type SmppRouteConfig } from './smpp-connection.ts';

/**
 * Several SMSC connections, one per operator; each number goes to the connection whose
 * prefix matches it longest (so "+998901" can be carved out of "+99890").
 */
export class SmppRouter implements SmsTransport {
  /** The connections that submit, one per route. */
  readonly connections: readonly SmppConnection[];
  /** Receiver binds of `transmitter` routes, which carry their receipts. */
  readonly receivers: readonly SmppConnection[];
  readonly #byPrefix: Array<{ prefix: string; connection: SmppConnection }>;

  constructor(routes: readonly SmppRouteConfig[], options: { logger: Logger; onReceipt: ReceiptHandler }) {
    this.connections = routes.map((route) => new SmppConnection(route, options));
    this.receivers = routes.filter((r) => r.mode === 'transmitter').map((route) => new SmppConnection(route, { ...options, bindType: 'receiver' }));
    this.#byPrefix = this.connections
      .flatMap((connection) => connection.config.prefixes.map((prefix) => ({ prefix, connection })))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  start(): void {
    for (const connection of [...this.connections, ...this.receivers]) connection.start();
  }

  route(to: string): SmppConnection | undefined {
    return this.#byPrefix.find((entry) => to.startsWith(entry.prefix))?.connection;
  }

  async send(_messageId: string, to: string, text: string): Promise<{ route: string; refs: string[]; segments: number }> {
    const connection = this.route(to);
    if (!connection) throw new DeliveryError('no SMSC route serves this number prefix', { permanent: true });
    const refs = await connection.submit(to, text);
    return { route: connection.config.name, refs, segments: refs.length };
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections, ...this.receivers].map((c) => c.stop()));
  }
}
