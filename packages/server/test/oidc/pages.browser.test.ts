import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { createOidcTestApp, enrolledCitizen, type OidcTestApp } from './support.ts';
import { REDIRECT_URI, registerRp, spaced } from './rp.ts';

const CHROMIUM = process.env.TASDIQ_CHROMIUM ?? '/usr/bin/chromium';
const skip = process.env.TASDIQ_SKIP_BROWSER === '1';

describe.skipIf(skip).each(testDialects())('sign-in pages in Chromium, by keyboard only, on %s', (dialect) => {
  let t: OidcTestApp;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (or TASDIQ_SKIP_BROWSER=1)`);
    t = await createOidcTestApp(dialect);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'], headless: true, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('walks phone entry, the verification code and consent in Russian with labels, alerts and no CSP errors', async () => {
    const citizen = await enrolledCitizen(t);
    const rp = await registerRp(t);
    const config = await rp.config();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid pinfl',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const context = await browser.newContext({ locale: 'ru-RU' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 400/.test(m.text())) errors.push(`${m.text()} ${m.location().url}`);
    });

    await page.goto(url.href);
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    expect(await page.textContent('h1')).toBe('Вход через Tasdiq');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.id')).toBe('hint');
    const input = page.getByLabel('Номер телефона или ПИНФЛ');
    expect(await input.getAttribute('aria-describedby')).toBe('hint-help');

    await page.keyboard.type('12345');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role=alert]');
    expect(await page.textContent('[role=alert]')).toContain('14-значный ПИНФЛ');
    expect(await page.getAttribute('#hint', 'aria-invalid')).toBe('true');
    expect(await page.evaluate('document.activeElement?.id')).toBe('hint');

    await page.fill('#hint', spaced(citizen.phone));
    await page.keyboard.press('Enter');
    await page.waitForSelector('.code');
    expect(await page.textContent('h1')).toBe('Подтвердите в приложении Tasdiq');
    const shown = (await page.textContent('.code'))?.trim();
    expect(shown).toMatch(/^\d{4}$/);
    expect(await page.getAttribute('.waiting', 'role')).toBe('status');

    // The citizen picks the code the page shows on the phone and confirms; the page's own
    // polling moves on to consent.
    const request = (await citizen.device.pending())!;
    // The page is in Russian: the phone names the service in Russian too.
    expect(request.service).toBe('Тестовый сервис');
    expect(request.verificationCodeChoices).toContain(shown);
    await citizen.device.confirm(request, shown);
    await page.waitForSelector('button[value=allow]', { timeout: 15_000 });
    expect(await page.textContent('ul.claims')).toContain('ПИНФЛ');
    await page.focus('button[value=allow]');
    // The service's host does not exist here; the browser's request to it is what counts.
    const toService = page.waitForRequest((r) => r.url().startsWith(REDIRECT_URI));
    await page.keyboard.press('Enter');
    expect(new URL((await toService).url()).searchParams.get('code')).toBeTruthy();
    expect(errors.filter((e) => !e.includes('ERR_NAME_NOT_RESOLVED'))).toEqual([]);
    await context.close();
  });
});
