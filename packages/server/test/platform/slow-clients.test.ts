import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../src/platform/http.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetrics } from '../../src/platform/metrics.ts';

/** The problem document of a raw HTTP answer, after checking its content type. */
function problemOf(answer: string): Record<string, unknown> {
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
  expect(head.toLowerCase()).toContain('content-type: application/problem+json');
  expect(head.toLowerCase()).toContain('connection: close');
  return JSON.parse(body) as Record<string, unknown>;
}

/** Sends `head` and then one byte of `trickle` every `everyMs`; resolves with what the server answered and when it closed. */
function slowClient(port: number, head: string, trickle: string, everyMs: number): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < trickle.length && !socket.destroyed) socket.write(trickle[sent++]!);
      }, everyMs);
    });
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });
}

/**
 * A stranger who opens connections and sends slowly (slowloris) holds no connection for longer
 * than the request limits: the server answers 408 and closes. Limits shortened for the test.
 */
describe('slow clients', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await createHttpServer({
      logger: createLogger('silent'),
      metrics: createMetrics(),
      rateLimitPerMinute: 1000,
      timeouts: { headersMs: 600, requestMs: 1200, checkIntervalMs: 200 },
    });
    app.post('/echo', async (request) => request.body);
    app.get('/wait', async () => {
      // An answer slower than the request limits (a long poll) is the server's to give.
      await new Promise((resolve) => setTimeout(resolve, 1800));
      return { waited: true };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app?.close());

  it('closes a connection whose headers never finish', async () => {
    const { answer, closedAfterMs } = await slowClient(port, 'GET /echo HTTP/1.1\r\nHost: x\r\n', 'X-Slow: ' + 'a'.repeat(100), 100);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(problemOf(answer)).toMatchObject({ status: 408, code: 'request_timeout' });
    expect(closedAfterMs).toBeLessThan(3_000);
  });

  it('closes a connection whose body trickles in', async () => {
    const body = JSON.stringify({ text: 'a'.repeat(200) });
    const { answer, closedAfterMs } = await slowClient(port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body, 100);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(problemOf(answer)).toMatchObject({ status: 408, code: 'request_timeout' });
    expect(closedAfterMs).toBeLessThan(3_500);
  });

  it('answers headers too large and bytes that are not HTTP with problem documents, and closes', async () => {
    const huge = await slowClient(port, `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, '', 100);
    expect(huge.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(problemOf(huge.answer)).toMatchObject({ status: 431, code: 'headers_too_large' });
    const garbage = await slowClient(port, 'HELLO THERE\r\n\r\n', '', 100);
    expect(garbage.answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(problemOf(garbage.answer)).toMatchObject({ status: 400, code: 'malformed_request', title: expect.any(String) });
  });

  it('still lets an answer take longer than the request limits', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/wait`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ waited: true });
  });
});
