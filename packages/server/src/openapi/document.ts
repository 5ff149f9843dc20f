import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import { errorDefinition } from '../platform/errors.ts';
import { COMPONENT_SCHEMAS } from './schemas.ts';
import { COMMON_CODES, OPERATIONS, SECURITY_SCHEMES, TAGS, securityOf, tagOf } from './catalog.ts';

/** What the onRoute hook keeps of a route: enough to describe it, nothing to run it. */
export interface CapturedRoute {
  readonly method: string | readonly string[];
  readonly url: string;
  readonly schema?: Record<string, unknown> | undefined;
}

export interface ErrorCodeDoc {
  readonly code: string;
  readonly title: string;
}

export interface ResponseDoc {
  description: string;
  content?: Record<string, { schema: unknown }>;
  'x-error-codes'?: ErrorCodeDoc[];
}

export interface OperationDoc {
  operationId: string;
  summary?: string;
  description?: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: unknown }>;
  requestBody?: { required?: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, ResponseDoc>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers: Array<{ url: string }>;
  tags: Array<{ name: string; description: string }>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, OperationDoc>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** Error responses grouped by status, each listing its stable codes with their English titles. */
function errorResponses(codes: readonly string[]): Record<string, ResponseDoc> {
  const byStatus = new Map<number, ErrorCodeDoc[]>();
  for (const code of new Set(codes)) {
    const definition = errorDefinition(code);
    if (!definition) throw new Error(`OpenAPI catalog names unregistered error code ${code}`);
    const list = byStatus.get(definition.status) ?? [];
    list.push({ code, title: definition.title.en });
    byStatus.set(definition.status, list);
  }
  const responses: Record<string, ResponseDoc> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = { description: list.map((e) => e.code).join(', '), content: PROBLEM, 'x-error-codes': list };
  }
  return responses;
}

/**
 * Turns the captured routes into an OpenAPI 3.1 document: @fastify/swagger converts each
 * route's JSON schemas (on a private instance that never listens), then the catalog adds tags,
 * prose, security and the problem+json answers with their stable codes.
 */
export async function buildDocument(routes: readonly CapturedRoute[], options: { publicUrl: string }): Promise<OpenApiDocument> {
  const converter = Fastify({ logger: false });
  await converter.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tasdiq API',
        version: '1',
        description: 'The Tasdiq Mobile-ID service. Errors are RFC 9457 problem+json with a stable `code`; `?lang=` or Accept-Language picks the language of `title`.',
      },
      servers: [{ url: options.publicUrl }],
    },
  });
  const seen = new Set<string>();
  for (const route of routes) {
    if (!tagOf(route.url)) continue;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || seen.has(`${method} ${route.url}`)) continue;
      seen.add(`${method} ${route.url}`);
      converter.route({ method, url: route.url, ...(route.schema ? { schema: route.schema } : {}), handler: async () => null });
    }
  }
  await converter.ready();
  const converted = converter.swagger() as unknown as { paths?: Record<string, Record<string, Partial<OperationDoc>>> };
  await converter.close();

  const paths: OpenApiDocument['paths'] = {};
  for (const [path, operations] of Object.entries(converted.paths ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) {
      const converted = operations[method];
      if (!converted) continue;
      const key = `${method} ${path}`;
      const docs = OPERATIONS[key];
      const security = docs?.security ?? securityOf(path);
      const responses: Record<string, ResponseDoc> = docs
        ? { [String(docs.success.status)]: { description: docs.success.description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${docs.success.schema}` } } } } }
        : Object.fromEntries(Object.entries(converted.responses ?? {}).filter(([status]) => status.startsWith('2')));
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'Success.' };
      const operation: OperationDoc = {
        ...converted,
        operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
        tags: [tagOf(path)!],
        security: security === 'none' ? [] : security === 'optionalClientAssertion' ? [{}, { clientAssertion: [] }] : [{ [security]: [] }],
        responses: { ...responses, ...errorResponses([...(docs?.errors ?? []), ...COMMON_CODES]) },
      };
      if (docs) {
        operation.summary = docs.summary;
        if (docs.description) operation.description = docs.description;
      }
      (paths[path] ??= {})[method] = operation;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tasdiq API',
      version: '1',
      description: 'The Tasdiq Mobile-ID service. Errors are RFC 9457 problem+json with a stable `code`; `?lang=` or Accept-Language picks the language of `title`. OpenID Connect is described by /.well-known/openid-configuration.',
    },
    servers: [{ url: options.publicUrl }],
    tags: TAGS.map((t) => ({ ...t })),
    components: { schemas: structuredClone(COMPONENT_SCHEMAS) as unknown as Record<string, unknown>, securitySchemes: structuredClone(SECURITY_SCHEMES) },
    paths,
  };
}
