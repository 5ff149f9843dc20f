import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import type { Locale } from '../platform/i18n.ts';
import { OFFICE_KINDS, type Office, type OfficeKind } from './schema.ts';
import { OfficeRepository } from './repository.ts';
import { REGION_CODES } from './regions.ts';

const officeJson = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: OFFICE_KINDS },
    region: { type: 'string' },
    name: { type: 'string' },
    address: { type: 'string' },
  },
  required: ['id', 'kind', 'region', 'name', 'address'],
} as const;

function present(office: Office, locale: Locale) {
  const name = { 'uz-Latn': office.name_uz_latn, 'uz-Cyrl': office.name_uz_cyrl, ru: office.name_ru, en: office.name_en }[locale];
  return { id: office.id, kind: office.kind, region: office.region, name, address: office.address };
}

export async function officeRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const offices = new OfficeRepository(context.db);

  app.get<{ Querystring: { region?: string; kind?: OfficeKind; after?: string; limit: number; lang?: string } }>(
    '/api/v1/offices',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            region: { type: 'string', enum: REGION_CODES },
            kind: { type: 'string', enum: OFFICE_KINDS },
            after: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            lang: { type: 'string', maxLength: 16 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: officeJson }, next: { type: ['string', 'null'] } },
            required: ['items', 'next'],
          },
        },
      },
    },
    async (request) => {
      const { region, kind, after, limit } = request.query;
      const rows = await offices.list({ region, kind, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        items: page.map((o) => present(o, request.locale)),
        next: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/offices/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' } }, required: ['id'] },
        response: { 200: officeJson },
      },
    },
    async (request) => {
      const office = await offices.findById(request.params.id);
      if (!office || office.active !== 1) throw new ApiError(CommonErrors.not_found);
      return present(office, request.locale);
    },
  );
}
