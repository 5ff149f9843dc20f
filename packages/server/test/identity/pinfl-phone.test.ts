import { describe, expect, it } from 'vitest';
import { makePinfl, normalizePhone, pinflCheckDigit, validatePinfl, demoRegistryCitizens, DEMO_CITIZEN_COUNT, UZ_MOBILE_PREFIXES, UZ_MOBILE_OPERATORS } from '../../src/identity/index.ts';
import '../../src/identity/errors.ts';
import { ApiError, CommonErrors, toProblem } from '../../src/platform/errors.ts';
import { LOCALES } from '../../src/platform/i18n.ts';

describe('PINFL', () => {
  it('computes the check digit with weights 7,3,1 modulo 10', () => {
    // 3 1 5 0 5 9 0 0 0 1 2 3 4 -> 21+3+5+0+15+9+0+0+0+7+6+3+28 = 97 -> 7
    expect(pinflCheckDigit('3150590001234')).toBe(7);
    expect(validatePinfl('31505900012347')).toEqual({ ok: true, birthDate: '1990-05-15', sex: 'M' });
    expect(validatePinfl(' 61505050012341 '.trim().slice(0, 13) + String(pinflCheckDigit('6150505001234')))).toMatchObject({ ok: true, birthDate: '2005-05-15', sex: 'F' });
  });

  it('says precisely what is wrong', () => {
    expect(validatePinfl('3150590001234')).toMatchObject({ ok: false, code: 'pinfl_wrong_length', message: expect.stringContaining('13 characters') });
    expect(validatePinfl('315059000123X7')).toMatchObject({ ok: false, code: 'pinfl_not_digits', message: expect.stringContaining('position 13') });
    expect(validatePinfl('21505900012347')).toMatchObject({ ok: false, code: 'pinfl_bad_century_digit', message: expect.stringContaining('it is 2') });
    expect(validatePinfl('33102900012347')).toMatchObject({ ok: false, code: 'pinfl_bad_birth_date', message: expect.stringContaining('310290') });
    expect(validatePinfl('32902010012347')).toMatchObject({ ok: false, code: 'pinfl_bad_birth_date' }); // 29 Feb 1901
    expect(validatePinfl('31505900012345')).toMatchObject({ ok: false, code: 'pinfl_check_digit_mismatch', message: expect.stringContaining('should be 7') });
  });

  it('refuses a PINFL whose birth date is in the future, with the date', () => {
    const now = Date.parse('2026-11-25T08:00:00Z');
    const tomorrow = makePinfl('2026-11-26', 'F', 123, 45);
    expect(validatePinfl(tomorrow, now)).toMatchObject({ ok: false, code: 'pinfl_birth_date_future', message: expect.stringContaining('2026-11-26') });
    expect(validatePinfl(makePinfl('2026-11-25', 'F', 123, 45), now)).toMatchObject({ ok: true, birthDate: '2026-11-25' });
    // A mistyped date digit is reported as the typo the check digit reveals.
    const typo = `${tomorrow.slice(0, 6)}7${tomorrow.slice(7)}`; // born 2027
    expect(validatePinfl(typo, now)).toMatchObject({ ok: false, code: 'pinfl_check_digit_mismatch' });
  });

  it('gives every reason in all four languages with its values filled in', () => {
    const bad = validatePinfl('31505900012345');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.reason.params).toEqual({ expected: 7, actual: '5' });
    const problem = toProblem(new ApiError(bad.code, { localizedDetail: bad.reason }), 'ru');
    expect(problem).toMatchObject({ code: 'pinfl_check_digit_mismatch', title: 'Неверная контрольная цифра ПИНФЛ' });
    expect(problem.detail).toBe('Контрольная (14-я) цифра для этих первых 13 цифр должна быть 7, а не 5.');
    for (const locale of LOCALES) {
      const detail = toProblem(new ApiError(bad.code, { localizedDetail: bad.reason }), locale).detail!;
      expect(detail, locale).toContain('7');
      expect(detail, locale).not.toMatch(/[{}]/);
    }
    expect(toProblem(new ApiError(bad.code, { localizedDetail: bad.reason }), 'uz-Cyrl').detail).toMatch(/назорат/);
  });

  it('builds valid PINFLs that carry birth date and sex', () => {
    for (const [date, sex] of [['1969-09-07', 'M'], ['2004-02-29', 'F'], ['1999-12-31', 'F'], ['2000-01-01', 'M']] as const) {
      const pinfl = makePinfl(date, sex, 123, 45);
      expect(validatePinfl(pinfl)).toEqual({ ok: true, birthDate: date, sex });
    }
  });

  it('generates a deterministic synthetic registry consistent with the PINFLs', () => {
    const a = demoRegistryCitizens();
    expect(a).toHaveLength(DEMO_CITIZEN_COUNT);
    expect(demoRegistryCitizens()).toEqual(a);
    expect(new Set(a.map((c) => c.pinfl)).size).toBe(a.length);
    for (const c of a) {
      expect(validatePinfl(c.pinfl)).toEqual({ ok: true, birthDate: c.birthDate, sex: c.sex });
      expect(c.demo).toBe(true);
      expect(c.photo).toMatch(/^data:image\/svg\+xml;base64,/);
    }
    const today = new Date().toISOString().slice(0, 10);
    expect(a.filter((c) => c.documents.every((d) => d.expiresOn < today)).length).toBeGreaterThanOrEqual(DEMO_CITIZEN_COUNT / 10);
  });

  it('dates the demo documents from today, so the demo set never ages', () => {
    for (const now of [Date.parse('2026-11-25T08:00:00Z'), Date.parse('2041-03-01T00:00:00Z')]) {
      const today = new Date(now).toISOString().slice(0, 10);
      const inTwoYears = new Date(now + 2 * 365 * 86_400_000).toISOString().slice(0, 10);
      const threeYearsAgo = new Date(now - 3 * 365 * 86_400_000).toISOString().slice(0, 10);
      const people = demoRegistryCitizens(DEMO_CITIZEN_COUNT, now);
      people.forEach((c, i) => {
        const card = c.documents.find((d) => d.kind === 'id_card')!;
        if (i % 10 === 9) expect(c.documents.every((d) => d.expiresOn < threeYearsAgo), `${i}`).toBe(true);
        else expect(card.expiresOn > inTwoYears && card.issuedOn < today, `${i}`).toBe(true);
        for (const d of c.documents) if (d.kind === 'passport') expect(d.expiresOn < threeYearsAgo).toBe(true);
      });
      // The same people with the same documents, only the dates move.
      expect(people.map((c) => [c.pinfl, c.name, c.documents.map((d) => d.number)])).toEqual(demoRegistryCitizens().map((c) => [c.pinfl, c.name, c.documents.map((d) => d.number)]));
    }
    expect(demoRegistryCitizens(1)[0]!.pinfl).toBe('30709691560004');
  });
});

describe('phone numbers', () => {
  it('normalises Uzbek mobiles to E.164 and names the operator', () => {
    expect(normalizePhone('+998 90 123-45-67')).toEqual({ ok: true, e164: '+998901234567', operator: 'Beeline' });
    expect(normalizePhone('(93) 123 45 67')).toEqual({ ok: true, e164: '+998931234567', operator: 'Ucell' });
    expect(normalizePhone('998501234567')).toEqual({ ok: true, e164: '+998501234567', operator: 'Ucell' });
    expect(normalizePhone('00998971234567')).toEqual({ ok: true, e164: '+998971234567', operator: 'Mobiuz' });
    expect(normalizePhone('+998 33 123 45 67')).toMatchObject({ ok: true, operator: 'Humans' });
    expect(normalizePhone('+998 77 123 45 67')).toMatchObject({ ok: true, operator: 'Uzmobile' });
    expect(normalizePhone('+998 99 123 45 67')).toMatchObject({ ok: true, operator: 'Uzmobile' });
  });

  it('knows every Uzbek mobile prefix and its operator, from one table', () => {
    const expected: Record<string, string> = {
      '20': 'OQ',
      '33': 'Humans',
      '50': 'Ucell',
      '77': 'Uzmobile',
      '88': 'Mobiuz',
      '90': 'Beeline',
      '91': 'Beeline',
      '93': 'Ucell',
      '94': 'Ucell',
      '95': 'Uzmobile',
      '97': 'Mobiuz',
      '98': 'Mobiuz',
      '99': 'Uzmobile',
    };
    expect(Object.fromEntries(UZ_MOBILE_PREFIXES.map((p) => [p.prefix, p.operator]))).toEqual(expected);
    expect(UZ_MOBILE_OPERATORS).toEqual(expected);
    for (const [prefix, operator] of Object.entries(expected)) {
      expect(normalizePhone(`+998 ${prefix} 123 45 67`), prefix).toEqual({ ok: true, e164: `+998${prefix}1234567`, operator });
      expect(normalizePhone(`${prefix} 765 43 21`), prefix).toEqual({ ok: true, e164: `+998${prefix}7654321`, operator });
    }
    // Every other two-digit prefix is a landline or nobody's.
    for (let n = 0; n < 100; n++) {
      const prefix = String(n).padStart(2, '0');
      if (expected[prefix]) continue;
      expect(normalizePhone(`+998${prefix}1234567`), prefix).toMatchObject({ ok: false, code: expect.stringMatching(/^phone_(landline|unknown_operator)$/) });
    }
  });

  it('gives the reason for a refused number in the reader\'s language', () => {
    const long = normalizePhone('+998 90 123 45 678');
    expect(long.ok).toBe(false);
    if (long.ok) return;
    expect(long.message).toBe('An Uzbek number has 9 digits after +998; this one has 10.');
    const inRussian = toProblem(new ApiError(long.code, { localizedDetail: long.reason }), 'ru');
    expect(inRussian.detail).toBe('В узбекском номере после +998 идут 9 цифр; в этом номере их 10.');
    // Field-level problems (the sign-in API's validation errors) are localised the same way.
    const landline = normalizePhone('+998 71 123 45 67');
    if (landline.ok) throw new Error('a landline was accepted');
    const problem = toProblem(
      new ApiError(CommonErrors.validation_failed, { errors: [{ field: 'body.phone', code: landline.code, message: landline.message, localized: landline.reason }] }),
      'uz-Latn',
    );
    expect(problem.errors).toEqual([{ field: 'body.phone', code: 'phone_landline', message: '+998 71 statsionar aloqa kodi; Mobile-ID uchun mobil raqam kerak.' }]);
  });

  it('accepts valid E.164 of other countries as international', () => {
    expect(normalizePhone('+7 916 123-45-67')).toEqual({ ok: true, e164: '+79161234567', operator: 'international' });
    expect(normalizePhone('+44 7700 900123')).toEqual({ ok: true, e164: '+447700900123', operator: 'international' });
  });

  it('rejects landlines, unknown prefixes and malformed numbers with a reason', () => {
    expect(normalizePhone('+998 71 123 45 67')).toMatchObject({ ok: false, code: 'phone_landline', message: expect.stringContaining('71') });
    expect(normalizePhone('+998 66 123 45 67')).toMatchObject({ ok: false, code: 'phone_landline' });
    expect(normalizePhone('+998 12 123 45 67')).toMatchObject({ ok: false, code: 'phone_unknown_operator', message: expect.stringContaining('+998 12') });
    expect(normalizePhone('+998 90 123 45 6')).toMatchObject({ ok: false, code: 'phone_malformed', message: expect.stringContaining('8') });
    expect(normalizePhone('+998 90 123 45 678')).toMatchObject({ ok: false, code: 'phone_malformed' });
    expect(normalizePhone('12345')).toMatchObject({ ok: false, code: 'phone_malformed' });
    expect(normalizePhone('+1234')).toMatchObject({ ok: false, code: 'phone_malformed' });
    expect(normalizePhone('+1234567890123456')).toMatchObject({ ok: false, code: 'phone_malformed' });
    expect(normalizePhone('call +998901234567')).toMatchObject({ ok: false, code: 'phone_malformed' });
    expect(normalizePhone('')).toMatchObject({ ok: false, code: 'phone_malformed' });
  });
});
