import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { NotifyErrors } from './errors.ts';
import { loadNotifyConfig } from './config.ts';
import { OutboxWorker } from './worker.ts';

const RECEIPT_STATUS: Record<string, string> = { delivered: 'DELIVRD', undelivered: 'UNDELIV', rejected: 'REJECTD', expired: 'EXPIRED' };

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * DEVELOPMENT ONLY: the SMS texts the `dev` channel stored instead of sending, so demo users
 * and browser tests can read their codes. Outside development the route answers 404.
 */
export async function notifyRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  await receiptRoutes(app, context);

  app.get<{ Querystring: { recipient: string; limit: number } }>(
    '/api/v1/dev/messages',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['recipient'],
          properties: {
            recipient: { type: 'string', maxLength: 128 },
            limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
            lang: { type: 'string', maxLength: 16 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              developmentOnly: { type: 'boolean' },
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    recipient: { type: 'string' },
                    kind: { type: 'string' },
                    text: { type: 'string' },
                    segments: { type: 'integer' },
                    createdAt: { type: 'integer' },
                  },
                  required: ['id', 'recipient', 'kind', 'text', 'segments', 'createdAt'],
                },
              },
            },
            required: ['developmentOnly', 'items'],
          },
        },
      },
      config: { rateLimit: { max: 120, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      if (!context.config.development) throw new ApiError(CommonErrors.not_found);
      const recipient = request.query.recipient.replace(/[\s()-]/g, '');
      if (!/^\+[1-9]\d{7,14}$/.test(recipient)) {
        throw new ApiError(NotifyErrors.recipient_invalid);
      }
      const rows = await context.db
        .selectFrom('notify_dev_inbox')
        .selectAll()
        .where('recipient', '=', recipient)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(request.query.limit)
        .execute();
      reply.header('cache-control', 'no-store');
      return {
        developmentOnly: true,
        items: rows.map((r) => ({ id: r.id, recipient: r.recipient, kind: r.kind, text: r.text, segments: r.segments, createdAt: r.created_at })),
      };
    },
  );
}

/**
 * Delivery receipts an HTTP SMS aggregator posts back: `{ id, status }` where `id` is the one
 * it answered the send with. Authenticated with TASDIQ_SMS_HTTP_RECEIPT_TOKEN; absent
 * that setting the route does not exist.
 */
async function receiptRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const config = loadNotifyConfig(context.config);
  const token = config.httpSmsReceiptToken;
  if (!token) return;
  // Records receipts only; it never claims or sends, so it is safe beside any worker.
  const recorder = new OutboxWorker({ db: context.db, dialect: context.dialect, logger: context.logger, settings: config.worker, channels: {}, now: context.now, workerId: 'http-receipts' });
  app.post<{ Body: { id: string; status: string } }>(
    '/api/v1/notify/sms-receipts',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'status'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' },
            status: { type: 'string', enum: Object.keys(RECEIPT_STATUS) },
          },
        },
      },
      config: { rateLimit: { max: 6_000, timeWindow: 60_000 } },
      // A stranger learns nothing, not even which bodies would be valid: auth comes first.
      onRequest: async (request) => {
        const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '');
        if (!match || !sameSecret(match[1]!, token)) throw new ApiError(CommonErrors.unauthorized);
      },
    },
    async (request, reply) => {
      await recorder.handleReceipt(`http:${request.body.id}`, RECEIPT_STATUS[request.body.status]!);
      return reply.code(204).send();
    },
  );
}
