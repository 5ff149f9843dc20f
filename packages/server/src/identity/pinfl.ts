/**
 * PINFL (JShShIR), the 14-digit personal identification number:
 *   digit 1      century and sex: 3/4 = born 1900-1999 male/female, 5/6 = 2000-2099 male/female
 *   digits 2-7   birth date as DDMMYY
 *   digits 8-10  district code
 *   digits 11-13 serial number
 *   digit 14     check digit: sum of the first 13 digits weighted 7,3,1,7,3,1,... modulo 10
 */
import type { LocalizedText } from '../platform/errors.ts';
import type { Translations } from '../platform/i18n.ts';
import { format } from '../platform/i18n.ts';

export type PinflErrorCode =
  | 'pinfl_wrong_length'
  | 'pinfl_not_digits'
  | 'pinfl_bad_century_digit'
  | 'pinfl_bad_birth_date'
  | 'pinfl_birth_date_future'
  | 'pinfl_check_digit_mismatch';

/**
 * `message` is the reason in English; `reason` is the same reason in every language with its
 * values as parameters, for the API to answer in the reader's language.
 */
export type PinflValidation =
  | { readonly ok: true; readonly birthDate: string; readonly sex: 'M' | 'F' }
  | { readonly ok: false; readonly code: PinflErrorCode; readonly message: string; readonly reason: LocalizedText };

/** The precise reason for each refusal, with `{placeholders}` for its values. */
export const PINFL_REASONS: Readonly<Record<PinflErrorCode, Translations>> = {
  pinfl_wrong_length: {
    'uz-Latn': 'JShShIR 14 ta raqamdan iborat; bu yerda {length} ta belgi bor.',
    'uz-Cyrl': 'ЖШШИР 14 та рақамдан иборат; бу ерда {length} та белги бор.',
    ru: 'ПИНФЛ состоит из 14 цифр; здесь символов: {length}.',
    en: 'A PINFL has 14 digits; this one has {length} characters.',
  },
  pinfl_not_digits: {
    'uz-Latn': "JShShIR faqat raqamlardan iborat; {position}-o'rindagi belgi raqam emas.",
    'uz-Cyrl': 'ЖШШИР фақат рақамлардан иборат; {position}-ўриндаги белги рақам эмас.',
    ru: 'ПИНФЛ содержит только цифры; символ на позиции {position} — не цифра.',
    en: 'A PINFL has only digits; position {position} is not a digit.',
  },
  pinfl_bad_century_digit: {
    'uz-Latn': "Birinchi raqam asr va jinsni bildiradi va 3, 4, 5 yoki 6 bo'lishi kerak; bu yerda u {digit}.",
    'uz-Cyrl': 'Биринчи рақам аср ва жинсни билдиради ва 3, 4, 5 ёки 6 бўлиши керак; бу ерда у {digit}.',
    ru: 'Первая цифра обозначает век и пол и должна быть 3, 4, 5 или 6; здесь она {digit}.',
    en: 'The first digit gives century and sex and must be 3, 4, 5 or 6; it is {digit}.',
  },
  pinfl_bad_birth_date: {
    'uz-Latn': "2–7-raqamlar tug'ilgan sana (KKOOYY); {digits} haqiqiy sana emas.",
    'uz-Cyrl': '2–7-рақамлар туғилган сана (ККООЙЙ); {digits} ҳақиқий сана эмас.',
    ru: 'Цифры 2–7 — дата рождения в виде ДДММГГ; {digits} — не реальная дата.',
    en: 'Digits 2-7 are the birth date as DDMMYY; {digits} is not a real date.',
  },
  pinfl_birth_date_future: {
    'uz-Latn': "1–7-raqamlar tug'ilgan sanani {date} deb ko'rsatadi; bu sana hali kelmagan.",
    'uz-Cyrl': '1–7-рақамлар туғилган санани {date} деб кўрсатади; бу сана ҳали келмаган.',
    ru: 'Цифры 1–7 дают дату рождения {date}, а она ещё не наступила.',
    en: 'Digits 1-7 give the birth date {date}, which is in the future.',
  },
  pinfl_check_digit_mismatch: {
    'uz-Latn': "Ushbu dastlabki 13 ta raqam uchun nazorat (14-) raqami {expected} bo'lishi kerak, lekin u {actual}.",
    'uz-Cyrl': 'Ушбу дастлабки 13 та рақам учун назорат (14-) рақами {expected} бўлиши керак, лекин у {actual}.',
    ru: 'Контрольная (14-я) цифра для этих первых 13 цифр должна быть {expected}, а не {actual}.',
    en: 'The check digit (the 14th) should be {expected} for these first 13 digits, but it is {actual}.',
  },
};

function refuse(code: PinflErrorCode, params: Record<string, string | number>): PinflValidation {
  return { ok: false, code, message: format(PINFL_REASONS[code].en, params), reason: { text: PINFL_REASONS[code], params } };
}

const WEIGHTS = [7, 3, 1] as const;

export function pinflCheckDigit(first13: string): number {
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * WEIGHTS[i % 3]!;
  return sum % 10;
}

function centuryOf(digit: string): { century: number; sex: 'M' | 'F' } | undefined {
  switch (digit) {
    case '3':
      return { century: 1900, sex: 'M' };
    case '4':
      return { century: 1900, sex: 'F' };
    case '5':
      return { century: 2000, sex: 'M' };
    case '6':
      return { century: 2000, sex: 'F' };
    default:
      return undefined;
  }
}

/** `now` decides what "in the future" means for the encoded birth date (UTC calendar days). */
export function validatePinfl(input: string, now: number = Date.now()): PinflValidation {
  const s = input.trim();
  if (s.length !== 14) return refuse('pinfl_wrong_length', { length: s.length });
  const bad = s.search(/\D/);
  if (bad >= 0) return refuse('pinfl_not_digits', { position: bad + 1 });
  const origin = centuryOf(s[0]!);
  if (!origin) return refuse('pinfl_bad_century_digit', { digit: s[0]! });
  const day = Number(s.slice(1, 3));
  const month = Number(s.slice(3, 5));
  const year = origin.century + Number(s.slice(5, 7));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || day < 1 || date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) {
    return refuse('pinfl_bad_birth_date', { digits: s.slice(1, 7) });
  }
  const birthDate = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const expected = pinflCheckDigit(s);
  if (Number(s[13]) !== expected) return refuse('pinfl_check_digit_mismatch', { expected, actual: s[13]! });
  // After the check digit: a typo in the date digits is reported as the typo it is.
  if (birthDate > new Date(now).toISOString().slice(0, 10)) return refuse('pinfl_birth_date_future', { date: birthDate });
  return { ok: true, birthDate, sex: origin.sex };
}

/** Builds a valid PINFL (used by the synthetic registry): birth date, sex, district and serial. */
export function makePinfl(birthDate: string, sex: 'M' | 'F', district: number, serial: number): string {
  const [y, m, d] = birthDate.split('-');
  const year = Number(y);
  const centuryDigit = year >= 2000 ? (sex === 'M' ? 5 : 6) : sex === 'M' ? 3 : 4;
  const first13 = `${centuryDigit}${d}${m}${String(year % 100).padStart(2, '0')}${String(district).padStart(3, '0')}${String(serial).padStart(3, '0')}`;
  return first13 + String(pinflCheckDigit(first13));
}
