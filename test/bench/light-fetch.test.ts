import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lightFetch } from '../../bench/lib/light-fetch.ts';

/** The benchmarks' load generator sends every request through lightFetch: it must answer as `fetch` does. */
describe('bench lightFetch', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string; socket: unknown }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, headers: request.headers, body, socket: request.socket });
        if (request.url === '/empty') return void response.writeHead(204).end();
        if (request.url === '/problem') return void response.writeHead(409, { 'content-type': 'application/problem+json' }).end('{"code":"conflict"}');
        response.setHeader('set-cookie', ['a=1', 'b=2']);
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ echo: body, word: 'tasdiq — тасдиқ' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the method, headers and a UTF-8 body with its byte length, and answers with a Response', async () => {
    const body = JSON.stringify({ name: 'Ўзбекистон' });
    const answer = await lightFetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-device': 'dev_1' }, body });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/echo', body });
    expect(last.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(last.headers['x-device']).toBe('dev_1');
    expect(answer).toBeInstanceOf(Response);
    expect(answer.status).toBe(200);
    expect(answer.ok).toBe(true);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await answer.json()).toEqual({ echo: body, word: 'tasdiq — тасдиқ' });
  });

  it('takes headers as a Headers object too, and reports error statuses and empty answers as fetch does', async () => {
    const problem = await lightFetch(`${base}/problem`, { headers: new Headers({ accept: 'application/json' }) });
    expect(seen.at(-1)!.headers.accept).toBe('application/json');
    expect(problem.ok).toBe(false);
    expect(problem.status).toBe(409);
    expect(await problem.json()).toEqual({ code: 'conflict' });
    const empty = await lightFetch(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('keeps connections alive between requests', async () => {
    await lightFetch(`${base}/a`);
    const first = seen.at(-1)!.socket;
    await lightFetch(`${base}/b`);
    expect(seen.at(-1)!.socket).toBe(first);
  });

  it('rejects when nothing listens, and refuses what it does not implement', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(lightFetch(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);
    expect(() => lightFetch(new URL(`${base}/`))).toThrow(/string URLs only/);
    expect(() => lightFetch(`${base}/`, { method: 'POST', body: new Uint8Array([1]) })).toThrow(/string bodies only/);
  });
});
