import { describe, expect, it } from 'vitest';
import { collectPageErrors, skipBrowser } from './support/browser.ts';
import { serverAndBrowser } from './support/suite.ts';

const SCREENSHOTS = process.env.TASDIQ_SCREENSHOTS ?? '/tmp';

describe.skipIf(skipBrowser)('web shell in Chromium', () => {
  const suite = serverAndBrowser();
  it('opens the landing page from / and links both apps', async () => {
    const page = await suite.browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${suite.server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/welcome/');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Tasdiq Mobile-ID');
    expect(await page.getByRole('link', { name: 'Operator paneli' }).getAttribute('href')).toBe('/console/');
    expect(await page.getByRole('link', { name: 'Fuqaro ilovasi' }).getAttribute('href')).toBe('/app/');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switches the citizen app language, remembers it, and finds offices by region', async () => {
    const context = await suite.browser.newContext();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const response = await page.goto(`${suite.server.url}/app/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe("Tasdiq: ro'yxatdan o'tish");
    expect(await page.evaluate('document.documentElement.lang')).toBe('uz-Latn');

    await page.getByLabel('Til', { exact: true }).selectOption('ru');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Tasdiq: регистрация');
    expect(await page.evaluate('document.documentElement.lang')).toBe('ru');
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Tasdiq: регистрация');

    await page.getByLabel('Регион', { exact: true }).selectOption('UZ-SU');
    await page.getByRole('button', { name: 'Найти' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Найдено офисов: 3');
    const offices = (listName: string) => page.getByRole('list', { name: listName }).getByRole('listitem').allTextContents();
    expect(await offices('Найти офис')).toContainEqual(expect.stringContaining('Центр государственных услуг Байсунского района'));

    // Names come translated from the server: switching language reloads them.
    await page.getByLabel('Язык', { exact: true }).selectOption('en');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Offices found: 3');
    expect(await offices('Find an office')).toContainEqual(expect.stringContaining('Boysun District Public Services Center'));

    await page.getByLabel('Office type', { exact: true }).selectOption('notary');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Offices found: 1');

    // Installable: a manifest and a service worker that controls the app's scope.
    // A string: these tests are type-checked for Node, where the DOM does not exist.
    const scope = await page.evaluate('navigator.serviceWorker.ready.then((r) => r.scope)');
    expect(scope).toBe(`${suite.server.url}/app/`);
    const manifest = await (await page.request.get(`${suite.server.url}/app/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ start_url: '/app/', scope: '/app/', display: 'standalone' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-app-phone.png`, fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lets a keyboard user skip to the console sign-in and reach the passkey button', async () => {
    const context = await suite.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${suite.server.url}/console/`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Kirish');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe("Asosiy qismga o'tish");
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Kirish kaliti bilan kirish');
    // The focused control is visibly outlined.
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-console-signin-phone.png`, fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });
});
