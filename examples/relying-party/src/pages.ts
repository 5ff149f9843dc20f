export const LOCALES = ['uz-Latn', 'uz-Cyrl', 'ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const LANGUAGE_NAMES: Record<Locale, string> = { 'uz-Latn': "O'zbekcha", 'uz-Cyrl': 'Ўзбекча', ru: 'Русский', en: 'English' };

const TEXTS = {
  title: { 'uz-Latn': 'Namuna xizmat', 'uz-Cyrl': 'Намуна хизмат', ru: 'Пример сервиса', en: 'Example service' },
  intro: {
    'uz-Latn': 'Bu xizmat fuqarolarni Tasdiq orqali tizimga kiritadi.',
    'uz-Cyrl': 'Бу хизмат фуқароларни Тасдиқ орқали тизимга киритади.',
    ru: 'Этот сервис впускает граждан через Tasdiq.',
    en: 'This service signs citizens in with Tasdiq.',
  },
  signIn: { 'uz-Latn': 'Tasdiq orqali kirish', 'uz-Cyrl': 'Тасдиқ орқали кириш', ru: 'Войти через Tasdiq', en: 'Sign in with Tasdiq' },
  signOut: { 'uz-Latn': 'Chiqish', 'uz-Cyrl': 'Чиқиш', ru: 'Выйти', en: 'Sign out' },
  signedIn: { 'uz-Latn': 'Siz tizimga kirdingiz', 'uz-Cyrl': 'Сиз тизимга кирдингиз', ru: 'Вы вошли', en: 'You are signed in' },
  signedOut: { 'uz-Latn': 'Siz tizimdan chiqdingiz', 'uz-Cyrl': 'Сиз тизимдан чиқдингиз', ru: 'Вы вышли', en: 'You are signed out' },
  failed: { 'uz-Latn': 'Kirish amalga oshmadi', 'uz-Cyrl': 'Кириш амалга ошмади', ru: 'Вход не выполнен', en: 'Sign-in failed' },
  tryAgain: { 'uz-Latn': 'Qaytadan urinish', 'uz-Cyrl': 'Қайтадан уриниш', ru: 'Попробовать снова', en: 'Try again' },
  nameLatn: { 'uz-Latn': 'Ism (lotin)', 'uz-Cyrl': 'Исм (лотин)', ru: 'Имя (латиница)', en: 'Name (Latin)' },
  nameCyrl: { 'uz-Latn': 'Ism (kirill)', 'uz-Cyrl': 'Исм (кирилл)', ru: 'Имя (кириллица)', en: 'Name (Cyrillic)' },
  pinfl: { 'uz-Latn': 'JShShIR', 'uz-Cyrl': 'ЖШШИР', ru: 'ПИНФЛ', en: 'PINFL' },
  acr: { 'uz-Latn': 'Ishonch darajasi (acr)', 'uz-Cyrl': 'Ишонч даражаси (acr)', ru: 'Уровень доверия (acr)', en: 'Assurance level (acr)' },
  amr: { 'uz-Latn': 'Kirish usullari (amr)', 'uz-Cyrl': 'Кириш усуллари (amr)', ru: 'Способы входа (amr)', en: 'Methods (amr)' },
  subject: { 'uz-Latn': 'Identifikator (sub)', 'uz-Cyrl': 'Идентификатор (sub)', ru: 'Идентификатор (sub)', en: 'Identifier (sub)' },
  language: { 'uz-Latn': 'Til', 'uz-Cyrl': 'Тил', ru: 'Язык', en: 'Language' },
} satisfies Record<string, Record<Locale, string>>;

export type TextKey = keyof typeof TEXTS;

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The first supported language the browser asks for; Uzbek (Latin) otherwise. */
export function pickLocale(lang: unknown, acceptLanguage: string | undefined): Locale {
  if (isLocale(lang)) return lang;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase();
    if (tag.startsWith('uz-cyrl')) return 'uz-Cyrl';
    if (tag.startsWith('uz')) return 'uz-Latn';
    if (tag.startsWith('ru')) return 'ru';
    if (tag.startsWith('en')) return 'en';
  }
  return 'uz-Latn';
}

export function t(locale: Locale, key: TextKey): string {
  return TEXTS[key][locale];
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Only the last four digits: enough for the citizen to recognise, too little to misuse. */
export function maskPinfl(pinfl: string): string {
  return pinfl.length > 4 ? `${'•'.repeat(pinfl.length - 4)}${pinfl.slice(-4)}` : '••••';
}

export interface Citizen {
  readonly sub: string;
  readonly nameLatn: string;
  readonly nameCyrl: string;
  readonly pinfl: string | undefined;
  readonly acr: string;
  readonly amr: readonly string[];
}

const CSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:2px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #f5a300;outline-offset:2px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}
nav ul{list-style:none;display:flex;gap:1rem;padding:0}a{color:#0b5cad}.error{color:#a30000}`;

function layout(locale: Locale, path: string, title: string, main: string): string {
  const links = LOCALES.map(
    (l) => `<li><a href="${path}?lang=${l}" hreflang="${l}" lang="${l}"${l === locale ? ' aria-current="true"' : ''}>${LANGUAGE_NAMES[l]}</a></li>`,
  ).join('');
  return `<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body>
<header><nav aria-label="${t(locale, 'language')}"><ul>${links}</ul></nav></header>
<main><h1>${escapeHtml(title)}</h1>
${main}
</main>
</body>
</html>`;
}

export function homePage(locale: Locale, citizen: Citizen | undefined, notice?: 'signedOut'): string {
  if (!citizen) {
    return layout(
      locale,
      '/',
      t(locale, 'title'),
      `${notice ? `<p role="status">${t(locale, notice)}</p>` : ''}<p>${t(locale, 'intro')}</p>
<form method="post" action="/login?lang=${locale}"><button type="submit">${t(locale, 'signIn')}</button></form>`,
    );
  }
  const rows: Array<[TextKey, string, string?]> = [
    ['nameLatn', citizen.nameLatn, 'uz-Latn'],
    ['nameCyrl', citizen.nameCyrl, 'uz-Cyrl'],
    ['pinfl', citizen.pinfl ? maskPinfl(citizen.pinfl) : '—'],
    ['acr', citizen.acr],
    ['amr', citizen.amr.join(', ')],
    ['subject', citizen.sub],
  ];
  const list = rows
    .map(([key, value, lang]) => `<dt>${t(locale, key)}</dt><dd data-claim="${key}"${lang ? ` lang="${lang}"` : ''}>${escapeHtml(value)}</dd>`)
    .join('\n');
  return layout(
    locale,
    '/',
    t(locale, 'title'),
    `<p role="status">${t(locale, 'signedIn')}</p>
<dl aria-label="${t(locale, 'signedIn')}">
${list}
</dl>
<form method="post" action="/logout"><button type="submit">${t(locale, 'signOut')}</button></form>`,
  );
}

export function errorPage(locale: Locale, code: string): string {
  return layout(
    locale,
    '/',
    t(locale, 'failed'),
    `<p class="error" role="alert">${t(locale, 'failed')}: <code>${escapeHtml(code)}</code></p><p><a href="/?lang=${locale}">${t(locale, 'tryAgain')}</a></p>`,
  );
}
