import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { inviteOperator } from '../../server/src/enrollment/index.ts';
import { enrollCitizen } from '../../server/test/devices/enroll.ts';
import { authorization, citizenWithApp, registerRp, type Service } from '../../server/test/oidc/journey.ts';
import { accessibilityProblems } from './support/axe.ts';
import { activateApp, addVirtualAuthenticator, skipBrowser } from './support/browser.ts';
import { serverAndBrowser } from './support/suite.ts';

const LOCALES = ['uz-Latn', 'uz-Cyrl', 'ru', 'en'] as const;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const heading = (page: Page) => page.getByRole('heading', { level: 1 }).first();

/**
 * Every screen a citizen, an operator or a relying party's user meets, audited by axe-core
 * against WCAG 2.2 AA and axe's best practices, as rendered in Chromium: the public pages in
 * each language, then the app, the console and the OpenID provider's pages in the states their
 * flows reach. (Contrast with the rendered colours is checked in the flows' own tests too.)
 */
describe.skipIf(skipBrowser)('accessibility of every page (axe-core, WCAG 2.2 AA)', () => {
  const suite = serverAndBrowser();
  /** Picks the language with the page's own switcher, as a reader would. */
  const choose = async (page: Page, locale: string) => {
    await page.locator('.language select').first().selectOption(locale);
    await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe(locale);
  };

  it('the landing page, the app, the sign-in page, the console and the API reference, in each language', async () => {
    const context = await suite.browser.newContext(PHONE);
    const page = await context.newPage();
    const problems: string[] = [];
    for (const locale of LOCALES) {
      for (const path of ['/welcome/', '/app/', '/console/']) {
        await page.goto(`${suite.server.url}${path}`);
        await heading(page).waitFor();
        await choose(page, locale);
        problems.push(...(await accessibilityProblems(page, `${path} ${locale}`)));
      }
      await page.goto(`${suite.server.url}/auth/signin?lang=${locale}`);
      await heading(page).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe(locale);
      problems.push(...(await accessibilityProblems(page, `/auth/signin ${locale}`)));
    }
    await page.goto(`${suite.server.url}/docs/api`);
    problems.push(...(await accessibilityProblems(page, '/docs/api')));
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('the app once activated and showing a request, and the sign-in page waiting for it', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const context = await suite.browser.newContext(PHONE);
    const phone = await context.newPage();
    await addVirtualAuthenticator(context, phone);
    await activateApp(phone, suite.server.url, await citizen.activationCode());
    const problems = await accessibilityProblems(phone, 'app, activated');

    const signin = await context.newPage();
    await signin.goto(`${suite.server.url}/auth/signin?lang=uz-Latn`);
    await signin.getByLabel('Telefon raqami yoki JShShIR').fill(citizen.pinfl);
    await signin.getByRole('button', { name: 'Kirish' }).click();
    await expect.poll(() => signin.locator('#vc').textContent(), { timeout: 10_000 }).toMatch(/^\d{4}$/);
    problems.push(...(await accessibilityProblems(signin, '/auth/signin, waiting')));

    await phone.bringToFront();
    await expect.poll(() => phone.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    problems.push(...(await accessibilityProblems(phone, 'app, a request to confirm')));
    await phone.getByRole('button', { name: (await signin.locator('#vc').textContent())!, exact: true }).click();
    await expect.poll(() => phone.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe('Tasdiqlandi');
    await expect.poll(() => signin.getByRole('status').textContent(), { timeout: 10_000 }).toMatch(/^Kirdingiz/);
    problems.push(...(await accessibilityProblems(phone, 'app, confirmed')), ...(await accessibilityProblems(signin, '/auth/signin, signed in')));
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('the operator console: registration, search, a citizen record with its history, operators, relying parties and the SMS inbox', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const invitation = await inviteOperator(
      suite.server.app.context.db,
      { name: 'Dilnoza Demo', role: 'admin', officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: suite.server.url },
      Date.now(),
    );
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page);
    await page.goto(invitation.registrationUrl);
    await choose(page, 'en');
    await page.getByRole('button', { name: 'Create a passkey' }).waitFor();
    const problems = await accessibilityProblems(page, 'console, registration');
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await expect.poll(() => heading(page).textContent(), { timeout: 10_000 }).toBe('Find a citizen');
    problems.push(...(await accessibilityProblems(page, 'console, search')));
    const screens: Array<[string, string]> = [
      ['Operators', 'Operators'],
      ['Relying parties', 'Relying parties'],
      ['Development SMS inbox', 'Development SMS inbox'],
    ];
    for (const [link, title] of screens) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await expect.poll(() => heading(page).textContent()).toBe(title);
      await page.waitForLoadState('networkidle');
      problems.push(...(await accessibilityProblems(page, `console, ${title}`)));
    }
    await page.goto(`${suite.server.url}/console/citizens/${citizen.citizenId}`);
    await expect.poll(() => page.getByText(citizen.pinfl).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.waitForLoadState('networkidle');
    problems.push(...(await accessibilityProblems(page, 'console, a citizen record')));
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('the OpenID provider: choosing how to sign in, waiting for the phone, consent, and an error', async () => {
    const service = { app: suite.server.app, baseUrl: suite.server.url } as Service;
    const rp = await registerRp(service, 'a11y-post', ['openid', 'pinfl'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const citizen = await citizenWithApp(service);
    const context = await suite.browser.newContext(PHONE);
    const page = await context.newPage();
    const problems: string[] = [];
    // English first, left with Cancel; then Russian, signed in on the phone up to the consent.
    for (const locale of ['en', 'ru']) {
      const { url } = await authorization(rp, { scope: 'openid pinfl', ui_locales: locale });
      await page.goto(url.href);
      await page.locator('#hint').waitFor();
      problems.push(...(await accessibilityProblems(page, `provider ${locale}, entry`)));
      // A wrong number: the page says so beside the field.
      await page.locator('#hint').fill('12');
      await page.locator('form[action*="/start"] button[type="submit"]').click();
      await page.locator('#hint-error').waitFor();
      problems.push(...(await accessibilityProblems(page, `provider ${locale}, entry with an error`)));
      await page.locator('#hint').fill(citizen.phone);
      await page.locator('form[action*="/start"] button[type="submit"]').click();
      await page.locator('.code').waitFor();
      problems.push(...(await accessibilityProblems(page, `provider ${locale}, waiting for the phone`)));
      if (locale === 'ru') {
        const request = (await citizen.device.pending())!;
        await citizen.device.confirm(request, (await page.locator('.code').textContent())!.trim());
        await page.locator('input[name="decision"], button[name="decision"]').first().waitFor({ timeout: 15_000 });
        problems.push(...(await accessibilityProblems(page, 'provider ru, consent')));
      } else {
        // Cancel sends the browser back to the relying party with access_denied (its page, not
        // served here, stands in as an empty one).
        await page.route('https://rp.example.uz/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>RP</title>' }));
        await page.locator('form[action$="/abort"] button').click();
        await page.waitForURL(/^https:\/\/rp\.example\.uz\//);
        expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
      }
    }
    await page.goto(`${suite.server.url}/oidc/authorize?client_id=nobody&response_type=code&scope=openid&ui_locales=uz-Cyrl`);
    problems.push(...(await accessibilityProblems(page, 'provider, an error page')));
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
