import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** The languages every screen is written in; uz-Latn is the default. */
export const LOCALES = ['uz-Latn', 'uz-Cyrl', 'ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'uz-Latn';

/** Each language names itself, so a reader finds their own language whatever is shown now. */
export const LOCALE_NAMES: Readonly<Record<Locale, string>> = {
  'uz-Latn': "O'zbekcha",
  'uz-Cyrl': 'Ўзбекча',
  ru: 'Русский',
  en: 'English',
};

/** A catalog has the same keys in every language; a missing translation is a compile error. */
export type Catalog<K extends string> = Readonly<Record<Locale, Readonly<Record<K, string>>>>;

const STORAGE_KEY = 'tasdiq.locale';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

function storedLocale(): Locale {
  try {
    const value = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLocale(value) ? value : DEFAULT_LOCALE;
  } catch {
    // Storage may be blocked (private mode, policy); the default language still works.
    return DEFAULT_LOCALE;
  }
}

/** Fills `{name}` placeholders. */
export function format(template: string, values: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

interface LocaleState {
  readonly locale: Locale;
  setLocale(locale: Locale): void;
}

const LocaleContext = createContext<LocaleState | null>(null);

export function LocaleProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(storedLocale);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered across visits, but switched for this one.
    }
  }, []);
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return <LocaleContext.Provider value={value}>{children}</LocaleContext.Provider>;
}

export function useLocale(): LocaleState {
  const state = useContext(LocaleContext);
  if (!state) throw new Error('useLocale outside LocaleProvider');
  return state;
}

export type Translate<K extends string> = (key: K, values?: Readonly<Record<string, string | number>>) => string;

/** The translate function for a catalog in the current language. */
export function useTranslate<K extends string>(catalog: Catalog<K>): Translate<K> {
  const { locale } = useLocale();
  return useCallback((key: K, values?: Readonly<Record<string, string | number>>) => format(catalog[locale][key], values), [catalog, locale]);
}
