/**
 * PINFL (JShShIR), the 14-digit personal identification number:
 *   digit 1      century and sex: 3/4 = born 1900-1999 male/female, 5/6 = 2000-2099 male/female
 *   digits 2-7   birth date as DDMMYY
 *   digits 8-10  district code
 *   digits 11-13 serial number
 *   digit 14     check digit: sum of the first 13 digits weighted 7,3,1,7,3,1,... modulo 10
 */
export type PinflErrorCode =
  | 'pinfl_wrong_length'
  | 'pinfl_not_digits'
  | 'pinfl_bad_century_digit'
  | 'pinfl_bad_birth_date'
  | 'pinfl_check_digit_mismatch';

export type PinflValidation =
  | { readonly ok: true; readonly birthDate: string; readonly sex: 'M' | 'F' }
  | { readonly ok: false; readonly code: PinflErrorCode; readonly message: string };

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

export function validatePinfl(input: string): PinflValidation {
  const s = input.trim();
  if (s.length !== 14) {
    return { ok: false, code: 'pinfl_wrong_length', message: `A PINFL has 14 digits; this one has ${s.length} characters.` };
  }
  const bad = s.search(/\D/);
  if (bad >= 0) {
    return { ok: false, code: 'pinfl_not_digits', message: `A PINFL has only digits; position ${bad + 1} is not a digit.` };
  }
  const origin = centuryOf(s[0]!);
  if (!origin) {
    return {
      ok: false,
      code: 'pinfl_bad_century_digit',
      message: `The first digit gives century and sex and must be 3, 4, 5 or 6; it is ${s[0]}.`,
    };
  }
  const day = Number(s.slice(1, 3));
  const month = Number(s.slice(3, 5));
  const year = origin.century + Number(s.slice(5, 7));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || day < 1 || date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) {
    return {
      ok: false,
      code: 'pinfl_bad_birth_date',
      message: `Digits 2-7 are the birth date as DDMMYY; ${s.slice(1, 7)} is not a real date.`,
    };
  }
  const expected = pinflCheckDigit(s);
  if (Number(s[13]) !== expected) {
    return {
      ok: false,
      code: 'pinfl_check_digit_mismatch',
      message: `The check digit (the 14th) should be ${expected} for these first 13 digits, but it is ${s[13]}.`,
    };
  }
  const birthDate = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
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
