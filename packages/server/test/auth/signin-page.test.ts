import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { SIGNIN_TEXTS } from '../../src/auth/signin/texts.ts';
import { LOCALES } from '../../src/platform/i18n.ts';

describe('the demo sign-in page', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('sqlite');
  });
  afterAll(async () => app.close());

  it('speaks the four languages: ?lang first, then Accept-Language, Uzbek (Latin) by default', async () => {
    for (const locale of LOCALES) {
      const page = await app.http.inject({ url: `/auth/signin?lang=${locale}` });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(`<html lang="${locale}">`);
      expect(page.body).toContain(`<h1>${SIGNIN_TEXTS[locale].heading}</h1>`);
      expect(page.headers['content-security-policy']).toBeTruthy();
    }
    expect((await app.http.inject({ url: '/auth/signin', headers: { 'accept-language': 'ru-RU,ru;q=0.9' } })).body).toContain('Вход через Tasdiq');
    expect((await app.http.inject({ url: '/auth/signin' })).body).toContain('<html lang="uz-Latn">');
  });

  it('gives its script every result in the page language, and nothing unescaped', async () => {
    const page = (await app.http.inject({ url: '/auth/signin?lang=en' })).body;
    const texts = /data-texts="([^"]*)"/.exec(page)![1]!.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
    const parsed = JSON.parse(texts) as Record<string, string>;
    for (const result of ['USER_REFUSED', 'TIMEOUT', 'WRONG_VC', 'NOT_ACTIVATED', 'DEVICE_REVOKED', 'DELIVERY_FAILED', 'CANCELLED']) expect(parsed[`result_${result}`]).toBeTruthy();
    // every language has every key the script and the page use
    const keys = Object.keys(SIGNIN_TEXTS.en).sort();
    for (const locale of LOCALES) expect(Object.keys(SIGNIN_TEXTS[locale]).sort()).toEqual(keys);
    expect(page).not.toMatch(/\{\{\w+\}\}/);
  });
});
