import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { CONTENT_SECURITY_POLICY } from '../../web/routes.ts';

const read = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/**
 * A minimal sign-in page of a relying service, for demos and the browser tests, until the
 * OpenID provider's pages are wired to device sessions. Static files, no inline script.
 */
export async function signinPageRoutes(app: FastifyInstance): Promise<void> {
  const files = {
    '/auth/signin': { type: 'text/html; charset=utf-8', body: read('./page.html') },
    '/auth/signin.js': { type: 'text/javascript; charset=utf-8', body: read('./signin.js') },
    '/auth/signin.css': { type: 'text/css; charset=utf-8', body: read('./signin.css') },
  };
  for (const [path, file] of Object.entries(files)) {
    app.get(path, async (_request, reply) =>
      reply.type(file.type).header('content-security-policy', CONTENT_SECURITY_POLICY).header('cache-control', 'no-cache').send(file.body),
    );
  }
}
