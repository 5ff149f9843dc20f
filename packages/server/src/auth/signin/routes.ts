import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { CONTENT_SECURITY_POLICY } from '../../web/routes.ts';
import { LOCALES, type Locale } from '../../platform/i18n.ts';
import { escapeHtml } from '../../platform/html.ts';
import { SIGNIN_TEXTS } from './texts.ts';

const read = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');
const LANGUAGE_NAMES: Record<Locale, string> = { 'uz-Latn': "O'zbekcha", 'uz-Cyrl': 'Ўзбекча', ru: 'Русский', en: 'English' };

/** The page in one language: every `{{key}}` filled in, escaped; the script's texts in a data attribute. */
function renderPage(template: string, locale: Locale): string {
  const texts = SIGNIN_TEXTS[locale];
  const switcher = LOCALES.map((l) => (l === locale ? `<span aria-current="true">${LANGUAGE_NAMES[l]}</span>` : `<a href="?lang=${l}" lang="${l}">${LANGUAGE_NAMES[l]}</a>`)).join(' · ');
  const values: Record<string, string> = { ...Object.fromEntries(Object.entries(texts).map(([k, v]) => [k, escapeHtml(v)])), lang: locale, texts: escapeHtml(JSON.stringify(texts)), switcher };
  return template.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => values[key] ?? '');
}

/**
 * A minimal sign-in page of a relying service, for demos and the browser tests: development
 * only (it starts sessions as an anonymous caller). No inline script; in the caller's language.
 */
export async function signinPageRoutes(app: FastifyInstance): Promise<void> {
  const template = read('./page.html');
  const pages = new Map(LOCALES.map((l) => [l, renderPage(template, l)]));
  app.get('/auth/signin', async (request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', CONTENT_SECURITY_POLICY).header('cache-control', 'no-cache').header('vary', 'accept-language').send(pages.get(request.locale)),
  );
  const files = {
    '/auth/signin.js': { type: 'text/javascript; charset=utf-8', body: read('./signin.js') },
    '/auth/signin.css': { type: 'text/css; charset=utf-8', body: read('./signin.css') },
  };
  for (const [path, file] of Object.entries(files)) {
    app.get(path, async (_request, reply) =>
      reply.type(file.type).header('content-security-policy', CONTENT_SECURITY_POLICY).header('cache-control', 'no-cache').send(file.body),
    );
  }
}
