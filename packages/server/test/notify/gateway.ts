import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GatewayRequest {
  readonly to: string;
  readonly text: string;
  readonly reference: string;
  readonly authorization: string | undefined;
  readonly idempotencyKey: string | undefined;
}

/** A local HTTP SMS aggregator: records each request and answers with the status a test sets. */
export class TestSmsGateway {
  readonly requests: GatewayRequest[] = [];
  status = 200;
  /** Hold each answer this long (a slow aggregator). */
  delayMs = 0;
  /** Requests that arrived, answered or not yet. */
  received = 0;
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((req, res) => {
      void body(req).then(async (raw) => {
        this.received += 1;
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        const parsed = JSON.parse(raw) as { to: string; text: string; reference: string };
        this.requests.push({ ...parsed, authorization: req.headers.authorization, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(this.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.status === 200 ? { id: `gw-${this.requests.length}` } : { error: 'nope' }));
      });
    });
  }

  static async start(): Promise<TestSmsGateway> {
    const g = new TestSmsGateway();
    await new Promise<void>((resolve) => g.#server.listen(0, '127.0.0.1', () => resolve()));
    return g;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/sms`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
  });
}
