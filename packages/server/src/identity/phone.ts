/**
 * Phone numbers are stored and compared as E.164. Uzbek numbers are +998 followed by a
 * two-digit operator or area code and seven digits; only mobile prefixes can hold Mobile-ID.
 * Numbers of other countries are accepted when they are syntactically valid E.164, with the
 * operator `international` (the diaspora; their operator cannot be told from the number).
 */
export type PhoneErrorCode = 'phone_malformed' | 'phone_landline' | 'phone_unknown_operator';

export type PhoneResult =
  | { readonly ok: true; readonly e164: string; readonly operator: string }
  | { readonly ok: false; readonly code: PhoneErrorCode; readonly message: string };

export const UZ_MOBILE_OPERATORS: Readonly<Record<string, string>> = {
  '90': 'Beeline',
  '91': 'Beeline',
  '93': 'Ucell',
  '94': 'Ucell',
  '50': 'Ucell',
  '88': 'Mobiuz',
  '97': 'Mobiuz',
  '95': 'Uzmobile',
  '99': 'Uzmobile',
  '77': 'Uzmobile',
  '33': 'Humans',
};

/** Fixed-line area codes (Tashkent city and the regions); numbers here cannot receive app pushes or be Mobile-ID. */
const UZ_LANDLINE_CODES = new Set(['55', '61', '62', '65', '66', '67', '69', '70', '71', '72', '73', '74', '75', '76', '78', '79']);

export function normalizePhone(input: string): PhoneResult {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 32 || !/^\+?[\d\s().-]+$/.test(trimmed)) {
    return { ok: false, code: 'phone_malformed', message: 'A phone number has only digits, spaces, brackets, dashes and a leading +.' };
  }
  let digits = trimmed.replace(/\D/g, '');
  const international = trimmed.startsWith('+') || trimmed.startsWith('00');
  if (trimmed.startsWith('00')) digits = digits.slice(2);
  if (!international) {
    // Local spellings: "90 123 45 67" (9 digits) or "998901234567" written without the plus.
    if (digits.length === 9) digits = `998${digits}`;
    else if (!(digits.length === 12 && digits.startsWith('998'))) {
      return { ok: false, code: 'phone_malformed', message: 'Write the number with its country code (+998 ...) or as 9 digits.' };
    }
  }
  if (digits.startsWith('998')) {
    if (digits.length !== 12) {
      return { ok: false, code: 'phone_malformed', message: `An Uzbek number has 9 digits after +998; this one has ${digits.length - 3}.` };
    }
    const prefix = digits.slice(3, 5);
    const operator = UZ_MOBILE_OPERATORS[prefix];
    if (operator) return { ok: true, e164: `+${digits}`, operator };
    if (UZ_LANDLINE_CODES.has(prefix)) {
      return { ok: false, code: 'phone_landline', message: `+998 ${prefix} is a fixed-line area code; Mobile-ID needs a mobile number.` };
    }
    return { ok: false, code: 'phone_unknown_operator', message: `No Uzbek mobile operator uses the prefix +998 ${prefix}.` };
  }
  if (digits.length < 8 || digits.length > 15 || digits.startsWith('0')) {
    return { ok: false, code: 'phone_malformed', message: 'An international number has 8 to 15 digits after the +, and no leading 0.' };
  }
  return { ok: true, e164: `+${digits}`, operator: 'international' };
}

/** Shows the last digits only, for audit details and logs. */
export function maskPhone(e164: string): string {
  return `${e164.slice(0, 4)}*****${e164.slice(-2)}`;
}
