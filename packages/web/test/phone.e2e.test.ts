import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { SessionClient } from '../../client/src/index.ts';
import { enrollCitizen } from '../../server/test/devices/enroll.ts';
import { addVirtualAuthenticator, collectPageErrors, launchChromium, skipBrowser } from './support/browser.ts';
import { startTestServer, type RunningTestServer } from './support/server.ts';

const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'my.gov.uz' };

describe.skipIf(skipBrowser)('citizen phone app in Chromium', () => {
  let server: RunningTestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('activates with the operator code, then confirms a sign-in by picking the code shown on the other screen', async () => {
    const citizen = await enrollCitizen(server.app.context.db, server.url);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page);
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/app/`);

    await page.getByLabel('Faollashtirish kodi').fill(await citizen.activationCode());
    await page.getByRole('button', { name: 'Faollashtirish' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Ilova faollashtirildi');
    const device = await server.app.context.db.selectFrom('devices').selectAll().where('citizen_id', '=', citizen.citizenId).executeTakeFirstOrThrow();
    expect(device.status).toBe('active');

    // The relying service (a sign-in page) starts the session and shows its code.
    const rp = new SessionClient(server.url);
    const started = await rp.start({ ...SERVICE, pinfl: citizen.pinfl, reason: 'Shaxsiy kabinetga kirish' });
    await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByText("my.gov.uz kirishni tasdiqlashni so'ramoqda").isVisible()).toBe(true);
    const choices = await page.getByRole('group', { name: 'Boshqa ekrandagi kodni tanlang' }).getByRole('button').allTextContents();
    expect(choices).toHaveLength(4); // three codes and "refuse"
    expect(choices).toContain(started.verificationCode);
    await page.getByRole('button', { name: started.verificationCode!, exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe('Tasdiqlandi');
    expect(await rp.result(started, 5000)).toMatchObject({ result: 'OK', subject: { pinfl: citizen.pinfl } });
    expect(await page.getByRole('list', { name: 'Tarix' }).textContent()).toContain('tasdiqlandi');

    // A wrong pick cancels the request, and the app says so.
    const second = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    const wrong = (await page.getByRole('group', { name: 'Boshqa ekrandagi kodni tanlang' }).getByRole('button').allTextContents()).find((c) => /^\d{4}$/.test(c) && c !== second.verificationCode)!;
    await page.getByRole('button', { name: wrong, exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toBe("Noto'g'ri kod tanlandi: so'rov bekor qilindi");
    expect((await rp.result(second)).result).toBe('WRONG_VC');
    await page.screenshot({ path: `${process.env.TASDIQ_SCREENSHOTS ?? '/tmp'}/tasdiq-phone-app.png`, fullPage: true });
    expect(errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
    await context.close();
  });
});
