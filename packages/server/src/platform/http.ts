import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import { lazyRequestLogger, maskUrl } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { ApiError, CommonErrors, PROBLEM_CONTENT_TYPE, toProblem, type FieldProblem } from './errors.ts';
import { DEFAULT_LOCALE, negotiateLocale, type Locale } from './i18n.ts';
import { isDatabaseUnavailable, isStorableText, transactionConflictCode, unreachableCode } from './db/index.ts';
import { isRedisUnavailable } from './redis.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's language, negotiated from `?lang=` or Accept-Language. */
    locale: Locale;
  }
}

export interface HttpOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly rateLimitPerMinute: number;
  /** Shared counters so every instance behind a load balancer enforces one limit. */
  readonly redis?: Redis | undefined;
  /** Key prefix in Redis (tests isolate themselves with it). */
  readonly rateLimitNamespace?: string;
  readonly bodyLimitBytes?: number;
  /** Trust X-Forwarded-For from these proxies (true in tests and behind a known load balancer). */
  readonly trustProxy?: boolean | string | string[];
  /**
   * Served over HTTPS (the public URL is https): browsers are told to come back only over
   * HTTPS for a year (HSTS), so a network that strips TLS cannot downgrade a sign-in.
   */
  readonly https?: boolean;
  /** How long a client may take to send a request (tests shorten them; see REQUEST_TIMEOUTS). */
  readonly timeouts?: Partial<typeof REQUEST_TIMEOUTS>;
}

/**
 * A client must send its headers within `headersMs` and its whole request within `requestMs`
 * (Node checks every `checkIntervalMs`), else it gets 408 and the connection closes: without
 * them a stranger trickling a body a byte a minute holds a connection for ever (Fastify's
 * default is no limit). Answers may take longer: a long poll waits on the server's side.
 */
const REQUEST_TIMEOUTS = { headersMs: 15_000, requestMs: 60_000, checkIntervalMs: 2_000 };

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Fastify's own error codes mapped to Tasdiq's stable codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: CommonErrors.unsupported_media_type,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: CommonErrors.malformed_body,
  FST_ERR_CTP_BODY_TOO_LARGE: CommonErrors.payload_too_large,
  FST_ERR_CTP_EMPTY_JSON_BODY: CommonErrors.malformed_body,
  FST_ERR_CTP_INVALID_JSON_BODY: CommonErrors.malformed_body,
  FST_ERR_CTP_EMPTY_TYPE: CommonErrors.unsupported_media_type,
  FST_ERR_CTP_INVALID_TYPE: CommonErrors.unsupported_media_type,
  FST_ERR_BAD_URL: CommonErrors.malformed_url,
  FST_ERR_MAX_PARAM_LENGTH: CommonErrors.malformed_url,
  FST_ERR_ASYNC_CONSTRAINT: CommonErrors.malformed_url,
};

/** Seconds a client is asked to wait when the database is away. */
const UNAVAILABLE_RETRY_SECONDS = 5;

/** The query parameter every route accepts to choose the answer's language. */
const LANG_PARAMETER = { type: 'string', maxLength: 35 } as const;

/**
 * Values no route has a use for, refused wherever they appear in the validated input:
 * - a non-finite number: JSON has no Infinity or NaN, but the validator's coercion turns
 *   `?limit=Infinity` or `1e999` into a number that passes `integer` and its bounds, and a
 *   body's `1e999` parses to Infinity;
 * - text that a database could not store as it is (`isStorableText`: a NUL character, which
 *   would fail a PostgreSQL statement where SQLite stores it, or half a surrogate pair).
 */
interface UnfitValue {
  readonly path: string[];
  readonly message: string;
}

function unfit(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'must be a finite number';
  if (typeof value === 'string') return isStorableText(value) ? undefined : 'must be text without NUL characters or broken Unicode';
  return undefined;
}

function findUnfit(value: unknown, path: string[], depth = 0): UnfitValue | undefined {
  const message = unfit(value);
  if (message) return { path, message };
  if (depth > 32 || typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnfit(value[i], [...path, String(i)], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = unfit(key);
    // The key is named escaped: the answer must not carry the character it refuses.
    const found = keyProblem ? { path: [...path, JSON.stringify(key).slice(1, -1)], message: keyProblem } : findUnfit(item, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function fieldProblems(error: FastifyError): FieldProblem[] {
  return (error.validation ?? []).slice(0, 20).map((v) => {
    const params = v.params as Record<string, unknown>;
    const base = (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined;
    const field = [error.validationContext, base, extra].filter(Boolean).join('.');
    return { field, code: v.keyword, message: v.message ?? v.keyword };
  });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: ApiError, options: { instance?: boolean } = {}): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(toProblem(error, request.locale ?? 'en', request.id, options.instance === false ? undefined : request.url.split('?')[0]));
}

/** Turns anything thrown in a handler into a problem document; never leaks internals. */
function toApiError(error: FastifyError | ApiError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    return new ApiError(CommonErrors.validation_failed, { errors: fieldProblems(fe) });
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new ApiError(mapped);
  // The database or Redis is down, restarting or overloaded: the request may succeed later.
  if (isDatabaseUnavailable(error) || isRedisUnavailable(error)) {
    return new ApiError(CommonErrors.service_unavailable, { headers: { 'retry-after': String(UNAVAILABLE_RETRY_SECONDS) } });
  }
  // Rolled back whole to settle a conflict with another transaction: asking again will do.
  if (transactionConflictCode(error)) return new ApiError(CommonErrors.service_unavailable, { headers: { 'retry-after': '1' } });
  if (fe.statusCode === 429) return new ApiError(CommonErrors.rate_limited, { params: { seconds: 60 } });
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode === 404 ? CommonErrors.not_found : CommonErrors.malformed_body);
  }
  return new ApiError(CommonErrors.internal_error);
}

/**
 * What Node meets before there is a request to answer (headers or a body too slow, headers too
 * large, bytes that are not HTTP) is answered as a problem document too, in the default language
 * since no header was read, and the connection closed, as Node itself would.
 */
function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError = new ApiError(
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? CommonErrors.request_timeout : error.code === 'HPE_HEADER_OVERFLOW' ? CommonErrors.headers_too_large : CommonErrors.malformed_request,
  );
  this.log.debug({ code: error.code, status: apiError.status }, 'connection refused before a request');
  if (socket.writable) {
    const body = JSON.stringify(toProblem(apiError, DEFAULT_LOCALE));
    socket.write(
      `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The log line for a 503: which dependency was missed, as far as the error tells. */
function outageOf(error: unknown): string {
  // A 503 the service chose (readiness, a registry away) says in its own words what is missing.
  if (error instanceof ApiError) return `request failed: ${error.message}`;
  if (isRedisUnavailable(error)) return 'request failed: Redis is unavailable';
  const conflict = transactionConflictCode(error);
  if (conflict) return `request failed: the database rolled its transaction back over a conflict with another (${conflict === '40P01' ? 'deadlock' : 'serialization failure'}, ${conflict}); nothing it wrote was kept`;
  const code = unreachableCode(error);
  // A refused or timed-out connection reads the same from any client: named by its code only.
  if (code) return `request failed: a service it depends on is unreachable (${code})`;
  return 'request failed: the database is unavailable';
}

/** The Fastify instance every module registers on: ids, errors, metrics, limits, logging. */
export async function createHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const timeouts = { ...REQUEST_TIMEOUTS, ...options.timeouts };
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    requestTimeout: timeouts.requestMs,
    http: { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkIntervalMs },
    // One log line per request is written in onResponse, with secrets masked.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    clientErrorHandler: answerClientError,
    childLoggerFactory: lazyRequestLogger,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    // Errors the router meets before any route runs (a path with bad percent-encoding, an
    // over-long parameter) are answered as problems too, without echoing the URL.
    frameworkErrors: (error, request, reply) => {
      request.locale = localeOf(request);
      commonHeaders(request, reply);
      return sendProblem(request, reply, toApiError(error), { instance: false });
    },
  });

  const localeOf = (request: FastifyRequest): Locale => {
    const lang = (request.query as Record<string, unknown> | undefined)?.lang;
    return negotiateLocale(typeof lang === 'string' ? lang : request.headers['accept-language']);
  };
  const commonHeaders = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (options.https) reply.header('strict-transport-security', 'max-age=31536000');
  };

  app.decorateRequest('locale', 'uz-Latn');
  // The hooks that run on every request take callbacks: an async hook costs each request a
  // promise and its resolution more, for work that never waits.
  app.addHook('onRequest', (request, reply, done) => {
    request.locale = localeOf(request);
    commonHeaders(request, reply);
    done();
  });

  // `?lang=` chooses the language on every route, so every closed querystring schema admits it.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { querystring?: Record<string, unknown> } | undefined;
    const querystring = schema?.querystring;
    if (!querystring || querystring.type !== 'object') return;
    const properties = (querystring.properties ?? {}) as Record<string, unknown>;
    if ('lang' in properties) return;
    route.schema = { ...schema, querystring: { ...querystring, properties: { ...properties, lang: LANG_PARAMETER } } };
  });

  app.addHook('preHandler', (request, _reply, done) => {
    for (const [part, value] of [
      ['querystring', request.query],
      ['params', request.params],
      ['body', request.body],
    ] as const) {
      const found = findUnfit(value, []);
      if (found) {
        done(new ApiError(CommonErrors.validation_failed, { errors: [{ field: [part, ...found.path].join('.'), code: 'type', message: found.message }] }));
        return;
      }
    }
    done();
  });

  // While shutting down, answers close their keep-alive connection, so the server's close
  // completes once the in-flight requests are answered instead of waiting for idle clients.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpDuration.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // Every refused or failed request is logged (masked); successes only at debug, so a busy
    // service's info log stays readable.
    if (reply.statusCode >= 400 || options.logger.isLevelEnabled('debug')) {
      request.log.info(
        { method: request.method, url: maskUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
        'request completed',
      );
    }
    done();
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status === 503) request.log.warn({ err: error }, outageOf(error));
    else if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, apiError);
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new ApiError(CommonErrors.not_found)));

  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    ...(options.redis ? { redis: options.redis, nameSpace: options.rateLimitNamespace ?? 'tasdiq-rl-', skipOnError: false } : {}),
    errorResponseBuilder: (_request, context) =>
      new ApiError(CommonErrors.rate_limited, {
        params: { seconds: Math.ceil(context.ttl / 1000) },
        headers: { 'retry-after': String(Math.ceil(context.ttl / 1000)) },
      }),
  });

  return app;
}
