import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { AppContext } from '../platform/module.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import type { BuiltFiles } from './files.ts';
import { WebErrors } from './errors.ts';

/**
 * No inline scripts or styles, nothing from other origins, no framing. React sets styles
 * through the CSSOM, which `style-src 'self'` allows; QR codes are `data:` images.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Single-page apps: any path below the prefix that is not a file gets the app's index.html. */
const APPS = ['console', 'app', 'welcome'] as const;

function cachePolicy(path: string): string {
  if (path.startsWith('assets/')) return IMMUTABLE;
  if (path.includes('/icons/')) return 'public, max-age=86400';
  // index.html, sw.js and the manifest name the hashed files, so they must never go stale.
  return REVALIDATE;
}

export function webRoutes(files: BuiltFiles) {
  return async function routes(app: FastifyInstance, context: AppContext): Promise<void> {
    await app.register(fastifyStatic, { root: files.root, serve: false, cacheControl: false, etag: true, lastModified: true });

    app.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-frame-options', 'DENY');
      reply.header('cross-origin-opener-policy', 'same-origin');
    });

    const send = (reply: FastifyReply, path: string) => reply.header('cache-control', cachePolicy(path)).sendFile(path);

    const built = (): ReadonlySet<string> => {
      const current = files.current();
      if (!current) throw new ApiError(WebErrors.web_not_built);
      return current;
    };

    app.get('/', (_request, reply) => reply.redirect('/welcome/', 302));

    app.get<{ Params: { '*': string } }>('/assets/*', (request, reply) => {
      const path = `assets/${request.params['*']}`;
      if (!built().has(path)) throw new ApiError(CommonErrors.not_found);
      return send(reply, path);
    });

    for (const name of APPS) {
      const serveApp = (request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
        const [pathname = '', query] = request.url.split(/\?(.*)/s);
        // The router ignores a trailing slash; the app's pages want one, as the browser resolves
        // its links against it.
        if (pathname === `/${name}`) return reply.redirect(`/${name}/${query ? `?${query}` : ''}`, 301);
        const rest = request.params['*'] ?? '';
        const path = `${name}/${rest}`;
        const available = built();
        if (rest !== '' && rest !== 'index.html' && available.has(path)) return send(reply, path);
        // A missing file is a 404; only page routes fall back to the app, so a broken asset link
        // is seen as broken rather than answered with HTML.
        if (/\.[A-Za-z0-9]+$/.test(rest)) throw new ApiError(CommonErrors.not_found);
        return send(reply, `${name}/index.html`);
      };
      // The router treats /console and /console/ as one route, apart from /console/*.
      app.get(`/${name}`, serveApp);
      app.get(`/${name}/*`, serveApp);
    }

    // What the console needs to know before anyone signs in: whether development-only pages
    // (the SMS inbox) exist on this server.
    app.get('/api/v1/web/runtime', async () => ({ development: context.config.development }));
  };
}
