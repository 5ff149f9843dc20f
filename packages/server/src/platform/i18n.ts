import { BoundedCache } from './bounded-cache.ts';

/** The languages every citizen-facing text is written in. */
export const LOCALES = ['uz-Latn', 'uz-Cyrl', 'ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'uz-Latn';

/** One text in every supported language; the type makes a missing translation a compile error. */
export type Translations = Readonly<Record<Locale, string>>;

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

function matchTag(tag: string): Locale | undefined {
  const t = tag.trim().toLowerCase();
  if (t === '' || t === '*') return undefined;
  if (t.startsWith('uz-cyrl')) return 'uz-Cyrl';
  if (t.startsWith('uz')) return 'uz-Latn';
  if (t.startsWith('ru')) return 'ru';
  if (t.startsWith('en')) return 'en';
  return undefined;
}

/**
 * Headers already negotiated (with the default fallback). Every request is negotiated, and the
 * values are few in practice (each browser's and SDK's own); long or many ones are not kept.
 */
const negotiated = new BoundedCache<string, Locale>(500);
const NEGOTIATED_MAX_LENGTH = 200;

/** Picks the best supported locale from an Accept-Language header (RFC 9110 q-values). */
export function negotiateLocale(acceptLanguage: string | undefined, fallback: Locale = DEFAULT_LOCALE): Locale {
  if (!acceptLanguage) return fallback;
  if (fallback !== DEFAULT_LOCALE || acceptLanguage.length > NEGOTIATED_MAX_LENGTH) return rankLocales(acceptLanguage, fallback);
  let locale = negotiated.get(acceptLanguage, 0);
  if (locale === undefined) {
    locale = rankLocales(acceptLanguage, fallback);
    negotiated.set(acceptLanguage, locale);
  }
  return locale;
}

function rankLocales(acceptLanguage: string, fallback: Locale): Locale {
  const ranked = acceptLanguage
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag, weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const { tag } of ranked) {
    const locale = matchTag(tag);
    if (locale) return locale;
  }
  return fallback;
}

/** Fills `{name}` placeholders; unknown placeholders are left visible so gaps are noticed. */
export function format(template: string, values: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
