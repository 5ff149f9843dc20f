import { describe, expect, it } from 'vitest';
import { negotiateLocale } from '../../src/platform/i18n.ts';
import { maskUrl } from '../../src/platform/logger.ts';

describe('locale negotiation', () => {
  it.each([
    [undefined, 'uz-Latn'],
    ['ru-RU,ru;q=0.9,en;q=0.8', 'ru'],
    ['uz-Cyrl-UZ', 'uz-Cyrl'],
    ['uz', 'uz-Latn'],
    ['de-DE, en;q=0.5', 'en'],
    ['en;q=0.1, ru;q=0.9', 'ru'],
    ['fr, de', 'uz-Latn'],
    ['ru;q=0, en', 'en'],
  ])('%s -> %s', (header, expected) => {
    expect(negotiateLocale(header)).toBe(expected);
    // Negotiated headers are kept: asked again, the same answer.
    expect(negotiateLocale(header)).toBe(expected);
  });

  it('keeps a remembered answer from overriding another fallback, and does not remember long headers', () => {
    expect(negotiateLocale('fr, de')).toBe('uz-Latn');
    expect(negotiateLocale('fr, de', 'en')).toBe('en');
    const long = `${'x-private-language-tag;q=0.5, '.repeat(10)}ru`;
    expect(long.length).toBeGreaterThan(200);
    expect(negotiateLocale(long)).toBe('ru');
    expect(negotiateLocale(long, 'en')).toBe('ru');
  });
});

describe('log URL masking', () => {
  it('masks secret query values and keeps the rest', () => {
    expect(maskUrl('/cb?code=abc123&state=xyz&lang=ru')).toBe('/cb?code=%5Bredacted%5D&state=%5Bredacted%5D&lang=ru');
    expect(maskUrl('/healthz')).toBe('/healthz');
  });
});
