import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { NotifyErrors } from './errors.ts';

/**
 * DEVELOPMENT ONLY: the SMS texts the `dev` channel stored instead of sending, so demo users
 * and browser tests can read their codes. Outside development the route answers 404.
 */
export async function notifyRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
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
