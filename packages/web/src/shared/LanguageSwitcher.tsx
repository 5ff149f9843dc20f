import { useId } from 'react';
import { LOCALES, LOCALE_NAMES, isLocale, useLocale, type Locale } from './i18n.tsx';

const LABEL: Readonly<Record<Locale, string>> = {
  'uz-Latn': 'Til',
  'uz-Cyrl': 'Тил',
  ru: 'Язык',
  en: 'Language',
};

export function LanguageSwitcher() {
  const { locale, setLocale } = useLocale();
  const id = useId();
  return (
    <div className="language">
      <label htmlFor={id}>{LABEL[locale]}</label>
      <select
        id={id}
        value={locale}
        onChange={(event) => {
          if (isLocale(event.target.value)) setLocale(event.target.value);
        }}
      >
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </div>
  );
}
