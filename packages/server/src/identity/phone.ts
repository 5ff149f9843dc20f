/**
 * Phone numbers are stored and compared as E.164. Uzbek numbers are +998 followed by a
 * two-digit operator or area code and seven digits; only mobile prefixes can hold Mobile-ID.
 * Numbers of other countries are accepted when they are syntactically valid E.164, with the
 * operator `international` (the diaspora; their operator cannot be told from the number).
 */
import type { LocalizedText } from '../platform/errors.ts';
import { format, type Translations } from '../platform/i18n.ts';

export type PhoneErrorCode = 'phone_malformed' | 'phone_landline' | 'phone_unknown_operator';

/**
 * `message` is the reason in English; `reason` is the same reason in every language with its
 * values as parameters, for the API to answer in the reader's language.
 */
export type PhoneResult =
  | { readonly ok: true; readonly e164: string; readonly operator: string }
  | { readonly ok: false; readonly code: PhoneErrorCode; readonly message: string; readonly reason: LocalizedText };

/**
 * The mobile prefixes (+998 XX) and the operator that holds each, in one table. 98 was
 * Perfectum Mobile's CDMA range; those numbers are served by Mobiuz now, so they are Mobiuz's.
 */
export const UZ_MOBILE_PREFIXES: ReadonlyArray<{ readonly prefix: string; readonly operator: string }> = [
  { prefix: '20', operator: 'OQ' },
  { prefix: '33', operator: 'Humans' },
  { prefix: '50', operator: 'Ucell' },
  { prefix: '77', operator: 'Uzmobile' },
  { prefix: '88', operator: 'Mobiuz' },
  { prefix: '90', operator: 'Beeline' },
  { prefix: '91', operator: 'Beeline' },
  { prefix: '93', operator: 'Ucell' },
  { prefix: '94', operator: 'Ucell' },
  { prefix: '95', operator: 'Uzmobile' },
  { prefix: '97', operator: 'Mobiuz' },
  { prefix: '98', operator: 'Mobiuz' },
  { prefix: '99', operator: 'Uzmobile' },
];

/** The same table as a prefix → operator lookup. */
export const UZ_MOBILE_OPERATORS: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(UZ_MOBILE_PREFIXES.map((p) => [p.prefix, p.operator])));

/** Fixed-line area codes (Tashkent city and the regions); numbers here cannot receive app pushes or be Mobile-ID. */
const UZ_LANDLINE_CODES = new Set(['55', '61', '62', '65', '66', '67', '69', '70', '71', '72', '73', '74', '75', '76', '78', '79']);

type PhoneReason = 'characters' | 'local_spelling' | 'uz_length' | 'landline' | 'unknown_operator' | 'international_length';

export const PHONE_REASONS: Readonly<Record<PhoneReason, Translations>> = {
  characters: {
    'uz-Latn': "Telefon raqamida faqat raqamlar, bo'shliqlar, qavslar, chiziqchalar va boshida + bo'ladi.",
    'uz-Cyrl': 'Телефон рақамида фақат рақамлар, бўшлиқлар, қавслар, чизиқчалар ва бошида + бўлади.',
    ru: 'Номер телефона содержит только цифры, пробелы, скобки, дефисы и + в начале.',
    en: 'A phone number has only digits, spaces, brackets, dashes and a leading +.',
  },
  local_spelling: {
    'uz-Latn': 'Raqamni mamlakat kodi bilan (+998 ...) yoki 9 ta raqam qilib yozing.',
    'uz-Cyrl': 'Рақамни мамлакат коди билан (+998 ...) ёки 9 та рақам қилиб ёзинг.',
    ru: 'Укажите номер с кодом страны (+998 ...) или 9 цифрами.',
    en: 'Write the number with its country code (+998 ...) or as 9 digits.',
  },
  uz_length: {
    'uz-Latn': "O'zbekiston raqamida +998 dan keyin 9 ta raqam bo'ladi; bu raqamda {digits} ta.",
    'uz-Cyrl': 'Ўзбекистон рақамида +998 дан кейин 9 та рақам бўлади; бу рақамда {digits} та.',
    ru: 'В узбекском номере после +998 идут 9 цифр; в этом номере их {digits}.',
    en: 'An Uzbek number has 9 digits after +998; this one has {digits}.',
  },
  landline: {
    'uz-Latn': '+998 {prefix} statsionar aloqa kodi; Mobile-ID uchun mobil raqam kerak.',
    'uz-Cyrl': '+998 {prefix} стационар алоқа коди; Mobile-ID учун мобил рақам керак.',
    ru: '+998 {prefix} — код стационарной связи; для Mobile-ID нужен мобильный номер.',
    en: '+998 {prefix} is a fixed-line area code; Mobile-ID needs a mobile number.',
  },
  unknown_operator: {
    'uz-Latn': "Hech bir O'zbekiston mobil operatori +998 {prefix} prefiksidan foydalanmaydi.",
    'uz-Cyrl': 'Ҳеч бир Ўзбекистон мобил оператори +998 {prefix} префиксидан фойдаланмайди.',
    ru: 'Ни один мобильный оператор Узбекистана не использует префикс +998 {prefix}.',
    en: 'No Uzbek mobile operator uses the prefix +998 {prefix}.',
  },
  international_length: {
    'uz-Latn': "Xalqaro raqamda + dan keyin 8 tadan 15 tagacha raqam bo'ladi va u 0 bilan boshlanmaydi.",
    'uz-Cyrl': 'Халқаро рақамда + дан кейин 8 тадан 15 тагача рақам бўлади ва у 0 билан бошланмайди.',
    ru: 'Международный номер содержит от 8 до 15 цифр после + и не начинается с 0.',
    en: 'An international number has 8 to 15 digits after the +, and no leading 0.',
  },
};

function refuse(code: PhoneErrorCode, reason: PhoneReason, params: Record<string, string | number> = {}): PhoneResult {
  return { ok: false, code, message: format(PHONE_REASONS[reason].en, params), reason: { text: PHONE_REASONS[reason], params } };
}

export function normalizePhone(input: string): PhoneResult {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 32 || !/^\+?[\d\s().-]+$/.test(trimmed)) return refuse('phone_malformed', 'characters');
  let digits = trimmed.replace(/\D/g, '');
  const international = trimmed.startsWith('+') || trimmed.startsWith('00');
  if (trimmed.startsWith('00')) digits = digits.slice(2);
  if (!international) {
    // Local spellings: "90 123 45 67" (9 digits) or "998901234567" written without the plus.
    if (digits.length === 9) digits = `998${digits}`;
    else if (!(digits.length === 12 && digits.startsWith('998'))) return refuse('phone_malformed', 'local_spelling');
  }
  if (digits.startsWith('998')) {
    if (digits.length !== 12) return refuse('phone_malformed', 'uz_length', { digits: digits.length - 3 });
    const prefix = digits.slice(3, 5);
    const operator = UZ_MOBILE_OPERATORS[prefix];
    if (operator) return { ok: true, e164: `+${digits}`, operator };
    if (UZ_LANDLINE_CODES.has(prefix)) return refuse('phone_landline', 'landline', { prefix });
    return refuse('phone_unknown_operator', 'unknown_operator', { prefix });
  }
  if (digits.length < 8 || digits.length > 15 || digits.startsWith('0')) return refuse('phone_malformed', 'international_length');
  return { ok: true, e164: `+${digits}`, operator: 'international' };
}

/** Shows the last digits only, for audit details and logs. */
export function maskPhone(e164: string): string {
  return `${e164.slice(0, 4)}*****${e164.slice(-2)}`;
}
