import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { SessionClient } from '../../client/src/index.ts';
import { enrollCitizen } from '../../server/test/devices/enroll.ts';
import { activateApp, addVirtualAuthenticator, collectPageErrors, skipBrowser } from './support/browser.ts';
import { serverAndBrowser } from './support/suite.ts';

const SERVICE = { serviceId: 'my.gov.uz', serviceName: 'my.gov.uz' };

describe.skipIf(skipBrowser)('citizen phone app in Chromium', () => {
  const suite = serverAndBrowser();
  /** A phone-sized browser with a platform authenticator, running the activated app. */
  async function activatedPhone(): Promise<{ context: BrowserContext; phone: Page; pinfl: string; phoneNumber: string }> {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const context = await suite.browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    await addVirtualAuthenticator(context, phone);
    await activateApp(phone, suite.server.url, await citizen.activationCode());
    return { context, phone, pinfl: citizen.pinfl, phoneNumber: citizen.phone };
  }

  it('activates with the operator code, then confirms a sign-in by picking the code shown on the other screen', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const context = await suite.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page);
    const errors = collectPageErrors(page);
    await page.goto(`${suite.server.url}/app/`);

    await page.getByLabel('Faollashtirish kodi').fill(await citizen.activationCode());
    await page.getByRole('button', { name: 'Faollashtirish', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Ilova faollashtirildi');
    const device = await suite.server.app.context.db.selectFrom('devices').selectAll().where('citizen_id', '=', citizen.citizenId).executeTakeFirstOrThrow();
    expect(device.status).toBe('active');
    // The app registered its PIN/biometric passkey with the server, which then checks it on every confirmation.
    expect(device.uv_credential_id).toMatch(/^[A-Za-z0-9_-]{16,}$/);

    // On the computer: the service's sign-in page starts the session and shows its code.
    const signin = await context.newPage();
    const signinErrors = collectPageErrors(signin);
    await signin.goto(`${suite.server.url}/auth/signin?lang=uz-Latn`);
    await signin.getByLabel('Telefon raqami yoki JShShIR').fill(citizen.pinfl);
    await signin.getByRole('button', { name: 'Kirish' }).click();
    await expect.poll(() => signin.locator('#vc').textContent(), { timeout: 10_000 }).toMatch(/^\d{4}$/);
    const shown = (await signin.locator('#vc').textContent())!;

    // On the phone: the request, and the same code among three.
    await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByText("Tasdiq demo kirishni tasdiqlashni so'ramoqda").isVisible()).toBe(true);
    const choices = await page.getByRole('group', { name: 'Boshqa ekrandagi kodni tanlang' }).getByRole('button').allTextContents();
    expect(choices).toHaveLength(4); // three codes and "refuse"
    expect(choices).toContain(shown);
    await page.getByRole('button', { name: shown, exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe('Tasdiqlandi');
    // In person, but the browser's WebCrypto key is a software key: substantial, not high.
    await expect.poll(() => signin.getByRole('status').textContent(), { timeout: 10_000 }).toBe('Kirdingiz (ishonch darajasi: substantial)');
    // The history comes from the server: this sign-in, named by its service, with its result.
    await expect.poll(() => page.getByRole('list', { name: 'Tarix' }).textContent(), { timeout: 10_000 }).toContain('Tasdiq demo: kirish — tasdiqlandi');
    // Issue 3: the citizen sees which office enrolled them (the office that issued the code here).
    const office = await suite.server.app.context.db.selectFrom('offices').select('name_uz_latn').where('id', '=', 'psc-su-boysun').executeTakeFirstOrThrow();
    const offices = page.getByRole('list', { name: "Meni ro'yxatga olgan va o'zgartirgan idoralar" });
    await expect.poll(() => offices.textContent(), { timeout: 10_000 }).toContain(office.name_uz_latn);
    expect(await offices.textContent()).toContain('Faollashtirish kodi berildi');
    expect(signinErrors).toEqual([]);
    await signin.close();
    const rp = new SessionClient(suite.server.url);

    // A wrong pick cancels the request, and the app says so.
    const second = await rp.start({ ...SERVICE, pinfl: citizen.pinfl });
    await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    const wrong = (await page.getByRole('group', { name: 'Boshqa ekrandagi kodni tanlang' }).getByRole('button').allTextContents()).find((c) => /^\d{4}$/.test(c) && c !== second.verificationCode)!;
    await page.getByRole('button', { name: wrong, exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toBe("Noto'g'ri kod tanlandi: so'rov bekor qilindi");
    expect((await rp.result(second)).result).toBe('WRONG_VC');

    // CIBA at a counter: no code on a second screen; the phone shows the clerk's message to confirm.
    const counter = await rp.start({ ...SERVICE, pinfl: citizen.pinfl, interaction: 'confirmation_message', reason: 'Navbat A-17, 3-oyna' });
    await expect.poll(() => page.locator('#confirmation-message').textContent(), { timeout: 10_000 }).toBe('Navbat A-17, 3-oyna');
    expect(await page.getByText("Xabar xodim aytgan bilan bir xil bo'lsagina tasdiqlang").isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Tasdiqlash', exact: true }).click();
    await expect.poll(async () => (await rp.result(counter)).result, { timeout: 10_000 }).toBe('OK');
    await page.screenshot({ path: `${process.env.TASDIQ_SCREENSHOTS ?? '/tmp'}/tasdiq-phone-app.png`, fullPage: true });
    expect(errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
    await context.close();
  });

  it('device link: the sign-in page shows a rotating QR, the app links with it and confirms', async () => {
    const { context, phone } = await activatedPhone();
    const signin = await context.newPage();
    const errors = collectPageErrors(signin);
    await signin.goto(`${suite.server.url}/auth/signin?lang=uz-Latn`);
    await signin.getByLabel('QR-kodni skanerlash').check();
    await signin.getByRole('button', { name: 'Kirish' }).click();
    const qrBox = signin.locator('#qr');
    await expect.poll(() => qrBox.getAttribute('data-qr'), { timeout: 10_000 }).toMatch(/^tasdiq\.as_/);
    expect(await qrBox.locator('svg').count()).toBe(1);
    const first = await qrBox.getAttribute('data-qr');
    await expect.poll(() => qrBox.getAttribute('data-qr'), { timeout: 5000 }).not.toBe(first); // it rotates
    // The QR is good for about a second: the phone's screen is the one in front (a page in the
    // background gets no animation frames, and Playwright's click waits for them).
    await phone.bringToFront();
    await phone.getByLabel('QR-kod matni').fill((await qrBox.getAttribute('data-qr'))!);
    await phone.getByRole('button', { name: 'Ulash' }).click();
    await expect.poll(() => phone.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    await phone.getByRole('button', { name: 'Tasdiqlash', exact: true }).click();
    await expect.poll(() => signin.getByRole('status').textContent(), { timeout: 15_000 }).toBe('Kirdingiz (ishonch darajasi: substantial)');

    // a QR seen seconds ago no longer links
    await signin.getByRole('button', { name: 'Kirish' }).click();
    await expect.poll(() => qrBox.getAttribute('data-qr'), { timeout: 10_000 }).toMatch(/^tasdiq\.as_/);
    const stale = (await qrBox.getAttribute('data-qr'))!;
    await new Promise((r) => setTimeout(r, 3500));
    await phone.getByLabel('QR-kod matni').fill(stale);
    await phone.getByRole('button', { name: 'Ulash' }).click();
    // The server's title in the app's language, not its machine code.
    await expect.poll(() => phone.getByRole('alert').textContent(), { timeout: 10_000 }).toBe("Bajarib bo'lmadi. QR kod noto'g'ri yoki eskirgan: ekrandagi kodni qayta skanerlang");
    expect(errors).toEqual([]);
    await context.close();
  });

  it('SMS fallback for a basic phone: the code from the SMS signs in at the lower assurance level', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const page = await suite.browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${suite.server.url}/auth/signin?lang=uz-Latn`);
    await page.getByLabel('Telefon raqami yoki JShShIR').fill(citizen.phone);
    await page.getByLabel('SMS-kod (oddiy telefon)').check();
    await page.getByRole('button', { name: 'Kirish' }).click();
    await expect.poll(() => page.getByLabel('SMS-kod', { exact: true }).isVisible(), { timeout: 10_000 }).toBe(true);
    // The development SMS inbox shows what the phone received.
    const inbox = `${suite.server.url}/api/v1/dev/messages?recipient=${encodeURIComponent(citizen.phone)}`;
    let text = '';
    await expect
      .poll(async () => {
        const items = ((await (await fetch(inbox)).json()) as { items: Array<{ kind: string; text: string }> }).items;
        text = items.find((m) => m.kind === 'auth.sms_otp')?.text ?? '';
        return text;
      }, { timeout: 15_000 })
      .toMatch(/#\d{6}$/);
    const origin = new URL(suite.server.url).host;
    expect(text).toContain(`@${origin} #`);
    const code = /#(\d{6})$/.exec(text)![1]!;
    const wrong = code === '000000' ? '000001' : '000000';
    await page.getByLabel('SMS-kod', { exact: true }).fill(wrong);
    await page.getByRole('button', { name: 'Tasdiqlash' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe("SMS kod noto'g'ri; 2 urinish qoldi");
    await page.getByLabel('SMS-kod', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Tasdiqlash' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 10_000 }).toBe('Kirdingiz (ishonch darajasi: low)');
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await page.close();
  });
});
