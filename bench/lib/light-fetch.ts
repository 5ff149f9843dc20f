/**
 * A `fetch` for the load generator: plain HTTP/1.1 over `node:http` on kept-alive connections.
 * Node's own `fetch` (undici) costs the load generator several times the CPU per request, and
 * on a machine whose cores the load generator shares with the service and the database, what
 * the load generator burns is CPU the service under test does not get. Only what the clients
 * in `packages/client` use is supported: a string URL, method, headers as a record, a string
 * body; the answer is a real `Response`.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

export function lightFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (typeof input !== 'string' || !input.startsWith('http://')) throw new Error('lightFetch: http:// string URLs only');
  if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') throw new Error('lightFetch: string bodies only');
  const body = init.body ?? undefined;
  const headers: Record<string, string> =
    init.headers instanceof Headers || Array.isArray(init.headers) ? Object.fromEntries(init.headers) : { ...(init.headers as Record<string, string> | undefined) };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const outgoing = request(input, { method: init.method ?? 'GET', headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const status = incoming.statusCode ?? 0;
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (typeof value === 'string') answerHeaders.set(name, value);
          else for (const each of value ?? []) answerHeaders.append(name, each);
        }
        const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, statusText: incoming.statusMessage ?? '', headers: answerHeaders }));
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
