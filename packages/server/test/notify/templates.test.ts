import { describe, expect, it } from 'vitest';
import { smsSegments, splitSms } from '../../src/notify/sms-segments.ts';
import { NOTIFICATION_KINDS, renderText } from '../../src/notify/templates.ts';
import { LOCALES } from '../../src/platform/i18n.ts';

describe('SMS segment counting', () => {
  it('fits 160 GSM-7 characters in one segment and uses 153 per part beyond', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'gsm7', units: 160, segments: 1, perSegment: 160 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'gsm7', units: 161, segments: 2, perSegment: 153 });
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts extension-table characters as two septets', () => {
    expect(smsSegments('€'.repeat(80))).toMatchObject({ encoding: 'gsm7', units: 160, segments: 1 });
    expect(smsSegments('{}[]~|^\\€').units).toBe(18);
    expect(smsSegments('€'.repeat(81)).segments).toBe(2);
  });

  it('switches to UCS-2 for anything outside GSM 03.38: 70 units, 67 per part', () => {
    expect(smsSegments('ы'.repeat(70))).toEqual({ encoding: 'ucs2', units: 70, segments: 1, perSegment: 70 });
    expect(smsSegments('ы'.repeat(71))).toEqual({ encoding: 'ucs2', units: 71, segments: 2, perSegment: 67 });
    // U+02BB (Uzbek o'kina) is not GSM: one such letter turns the whole text into UCS-2.
    expect(smsSegments('Oʻzbekiston').encoding).toBe('ucs2');
    expect(smsSegments('😀').units).toBe(2);
  });

  it('holds one unit less per part with a 16-bit concatenation reference (a 7-byte UDH)', () => {
    expect(smsSegments('a'.repeat(161), 16)).toEqual({ encoding: 'gsm7', units: 161, segments: 2, perSegment: 152 });
    expect(smsSegments('a'.repeat(304), 16).segments).toBe(2);
    expect(smsSegments('a'.repeat(305), 16).segments).toBe(3);
    expect(smsSegments('ы'.repeat(132), 16)).toMatchObject({ segments: 2, perSegment: 66 });
    expect(smsSegments('ы'.repeat(133), 16).segments).toBe(3);
    expect(smsSegments('a'.repeat(160), 16).segments).toBe(1);
    expect(splitSms('ы'.repeat(133), 16).parts.map((p) => p.length)).toEqual([66, 66, 1]);
  });

  it('never cuts an escape pair or a surrogate pair at a seam', () => {
    const gsm = 'a'.repeat(152) + '€' + 'b'.repeat(160);
    const split = splitSms(gsm);
    expect(split.parts[0]).toBe('a'.repeat(152));
    expect(split.parts.join('')).toBe(gsm);
    expect(split.parts).toHaveLength(smsSegments(gsm).segments);
    const ucs = 'ы'.repeat(66) + '😀' + 'ы'.repeat(10);
    const u = splitSms(ucs);
    expect(u.parts[0]).toBe('ы'.repeat(66));
    expect(u.parts.join('')).toBe(ucs);
  });
});

describe('message templates', () => {
  const params = { code: '123456', service: 'my.gov.uz', origin: 'my.gov.uz', operatorOffice: 'Boysun PSC' };

  it('renders every kind in every language with no placeholder left', () => {
    for (const kind of NOTIFICATION_KINDS) {
      for (const locale of LOCALES) {
        const rendered = renderText(kind, locale, params);
        expect(rendered.text).not.toMatch(/\{\w+\}/);
        expect(rendered.segments).toBeLessThanOrEqual(3);
      }
    }
  });

  it('ends the OTP text with the origin-bound line and keeps Latin texts in GSM-7', () => {
    const en = renderText('auth.sms_otp', 'en', params);
    expect(en.text).toBe('Your code for my.gov.uz is 123456. Do not share it.\n\n@my.gov.uz #123456');
    expect(en).toMatchObject({ encoding: 'gsm7', segments: 1 });
    for (const locale of LOCALES) expect(renderText('auth.sms_otp', locale, params).text.endsWith('\n\n@my.gov.uz #123456')).toBe(true);
    expect(renderText('auth.sms_otp', 'uz-Latn', params).encoding).toBe('gsm7');
    expect(renderText('auth.sms_otp', 'ru', params)).toMatchObject({ encoding: 'ucs2', segments: 1 });
    expect(renderText('auth.sms_otp', 'en', { ...params, origin: 'https://My.Gov.uz' }).text).toBe(en.text);
    expect(renderText('auth.sms_otp', 'en', { ...params, origin: '' }).text).toBe('Your code for my.gov.uz is 123456. Do not share it.');
    expect(() => renderText('auth.sms_otp', 'en', { ...params, origin: 'ftp://x.uz' })).toThrow('origin');
  });
});
