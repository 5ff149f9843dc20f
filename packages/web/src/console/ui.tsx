import { useEffect, useRef, type ReactNode } from 'react';
import { ApiProblem } from '../shared/api.ts';
import { useLocale, useTranslate, type Locale } from '../shared/i18n.tsx';
import { consoleText } from './messages.ts';
import { enrollmentText } from './enrollment-text.ts';
import { hasNavigated } from './router.tsx';

/** The page's one h1; after an in-console navigation it takes focus, so the change is announced. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Tasdiq`;
  }, [title]);
  useEffect(() => {
    if (hasNavigated()) ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** Keywords of the server's schema validation, whose own messages are English only. */
const SCHEMA_KEYWORDS = new Set(['required', 'additionalProperties', 'type', 'pattern', 'minLength', 'maxLength', 'enum', 'const', 'format', 'minimum', 'maximum', 'oneOf', 'anyOf', 'allOf', 'minItems', 'maxItems']);

/**
 * What went wrong. The server's title and detail come in the reader's language (the request
 * carries it), and so do its own field problems (a PINFL's check digit, a phone's prefix); a
 * schema-validation problem has an English message only, so it is named here instead.
 */
export function ErrorMessage({ error }: { error: unknown }) {
  const t = useTranslate(consoleText);
  const te = useTranslate(enrollmentText);
  if (!error) return null;
  if (error instanceof ApiProblem) {
    if (error.code === 'network_error') return <p className="alert" role="alert">{t('networkError')}</p>;
    return (
      <div className="alert" role="alert" data-code={error.code}>
        <strong>{error.title}</strong>
        {error.detail && <p>{error.detail}</p>}
        {error.errors.length > 0 && (
          <ul>
            {error.errors.map((e) => (
              <li key={`${e.field}:${e.code}`}>
                {SCHEMA_KEYWORDS.has(e.code)
                  ? te(e.code === 'required' ? 'fieldMissing' : e.code === 'additionalProperties' ? 'fieldUnknown' : 'fieldInvalid', { field: e.field })
                  : `${e.field}: ${e.message}`}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  const name = (error as Error).name;
  if (name === 'NotAllowedError' || name === 'AbortError') return <p className="alert" role="alert">{t('passkeyCancelled')}</p>;
  return <p className="alert" role="alert">{(error as Error).message ?? String(error)}</p>;
}

/** Polite announcements of progress and results for screen readers, shown to everyone. */
export function Status({ children, tone }: { children: ReactNode; tone?: 'success' }) {
  return (
    <p role="status" aria-live="polite" className={children && tone === 'success' ? 'success' : 'hint'}>
      {children}
    </p>
  );
}

export function formatTime(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDate(isoDate: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${isoDate}T00:00:00Z`));
}

export function useFormat() {
  const { locale } = useLocale();
  return { time: (iso: string) => formatTime(iso, locale), date: (d: string) => formatDate(d, locale), locale };
}
