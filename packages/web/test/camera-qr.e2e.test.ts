import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { issueActivationCode } from '../../server/src/enrollment/activation.ts';
import { enrollCitizen } from '../../server/test/devices/enroll.ts';
import { activateApp, addVirtualAuthenticator, collectPageErrors, launchChromium, skipBrowser } from './support/browser.ts';
import { FakeCamera } from './support/fake-camera.ts';
import { startTestServer, type RunningTestServer } from './support/server.ts';

/** A phone-sized browser whose user allowed the camera. */
const PHONE = { viewport: { width: 390, height: 844 }, permissions: ['camera'] };
const SCREENSHOTS = process.env.TASDIQ_SCREENSHOTS ?? '/tmp';

describe.skipIf(skipBrowser)('citizen app reads QR codes through the camera (Chromium fake camera)', () => {
  let server: RunningTestServer;
  let browser: Browser;
  let camera: FakeCamera;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasdiq-camera-'));
    camera = new FakeCamera(join(dir, 'camera.y4m'));
    server = await startTestServer('sqlite');
    browser = await launchChromium({ fakeCameraFile: camera.path });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The QR the operator console shows, issued by the enrollment module for the citizen's office operator. */
  async function operatorIssuedQr(citizenId: string): Promise<string> {
    const db = server.app.context.db;
    const enrollment = await db.selectFrom('enrollments').select('operator_id').where('citizen_id', '=', citizenId).executeTakeFirstOrThrow();
    const operator = await db.selectFrom('operators').selectAll().where('id', '=', enrollment.operator_id).executeTakeFirstOrThrow();
    return (await issueActivationCode(db, citizenId, server.url, { operator, requestId: 'req-camera-test' }, Date.now())).activationUri;
  }

  const scannerStatus = (page: Page) => page.getByTestId('scanner-status').textContent();
  /** Whether any camera track is still live in the page: the app must turn the camera off. */
  const cameraLive = (page: Page) =>
    page.evaluate<boolean>("[...document.querySelectorAll('video')].some((v) => v.srcObject instanceof MediaStream && v.srcObject.getTracks().some((t) => t.readyState === 'live'))");

  it('activates from the operator QR, after turning away a foreign QR and a code for another server', async () => {
    const citizen = await enrollCitizen(server.app.context.db, server.url);
    const uri = await operatorIssuedQr(citizen.citizenId);
    expect(uri).toMatch(/^tasdiq:\/\/activate\?code=[A-Z0-9]+&server=/);
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page);
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/app/`);
    // The typed-code path stays beside the camera.
    await expect.poll(() => page.getByLabel('Faollashtirish kodi').isVisible()).toBe(true);

    camera.show('https://example.uz/menu');
    await page.getByRole('button', { name: 'Idoradagi QR-kodni kamera bilan skanerlash' }).click();
    await expect.poll(() => scannerStatus(page), { timeout: 15_000 }).toBe('Bu QR-kod faollashtirish kodi emas: idorada berilgan QR-kodni skanerlang');
    expect(await page.getByLabel("Kamera ko'rinishi").isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-camera-scanner.png`, fullPage: true });

    const foreign = uri.replace(/server=[^&]+/, `server=${encodeURIComponent('https://tasdiq.example')}`);
    camera.show(foreign);
    await expect.poll(() => scannerStatus(page), { timeout: 10_000 }).toBe(`Bu kod boshqa server uchun (https://tasdiq.example): bu ilova faqat ${server.url} bilan ishlaydi`);
    expect(await server.app.context.db.selectFrom('devices').select('id').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([]);

    camera.show(uri);
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Ilova faollashtirildi');
    const device = await server.app.context.db.selectFrom('devices').selectAll().where('citizen_id', '=', citizen.citizenId).executeTakeFirstOrThrow();
    expect(device.status).toBe('active');
    expect(await cameraLive(page)).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('turns the camera off when asked and when the page is hidden', async () => {
    camera.show(null);
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(`${server.url}/app/`);
    const start = page.getByRole('button', { name: 'Idoradagi QR-kodni kamera bilan skanerlash' });
    await start.click();
    await expect.poll(() => scannerStatus(page), { timeout: 15_000 }).toBe("Kamerani QR-kodga qarating: u o'zi o'qiladi");
    expect(await cameraLive(page)).toBe(true);
    await page.getByRole('button', { name: "Kamerani o'chirish" }).click();
    expect(await scannerStatus(page)).toBe("Kamera o'chirildi");
    expect(await cameraLive(page)).toBe(false);

    await start.click();
    await expect.poll(() => cameraLive(page), { timeout: 15_000 }).toBe(true);
    // The browser hides the page (another app in front); the camera must not keep running.
    await page.evaluate("Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }); document.dispatchEvent(new Event('visibilitychange'))");
    await expect.poll(() => cameraLive(page)).toBe(false);
    expect(await scannerStatus(page)).toBe("Kamera o'chirildi");
    await context.close();
  });

  it('a refused camera says so, and the typed code still activates', async () => {
    const citizen = await enrollCitizen(server.app.context.db, server.url);
    const context = await browser.newContext({ viewport: PHONE.viewport });
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page);
    await page.goto(`${server.url}/app/`);
    await page.getByRole('button', { name: 'Idoradagi QR-kodni kamera bilan skanerlash' }).click();
    await expect
      .poll(() => scannerStatus(page), { timeout: 15_000 })
      .toBe("Kameraga ruxsat berilmadi. Brauzer sozlamalarida ruxsat bering yoki kodni qo'lda kiriting.");
    expect(await page.getByLabel("Kamera ko'rinishi").isVisible()).toBe(false);
    await page.getByLabel('Faollashtirish kodi').fill(await citizen.activationCode());
    await page.getByRole('button', { name: 'Faollashtirish', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Ilova faollashtirildi');
    await context.close();
  });

  it('device link: the phone camera reads the rotating QR of the sign-in page and the sign-in completes', async () => {
    const citizen = await enrollCitizen(server.app.context.db, server.url);
    const phoneContext = await browser.newContext(PHONE);
    const phone = await phoneContext.newPage();
    await addVirtualAuthenticator(phoneContext, phone);
    const errors = collectPageErrors(phone);
    await activateApp(phone, server.url, await citizen.activationCode());

    // The phone's camera is on, pointed at nothing yet.
    camera.show(null);
    await phone.getByRole('button', { name: 'Kompyuterdagi QR-kodni kamera bilan skanerlash' }).click();
    await expect.poll(() => scannerStatus(phone), { timeout: 15_000 }).toBe("Kamerani QR-kodga qarating: u o'zi o'qiladi");

    // The computer: a sign-in by QR. Its code changes every second; the server accepts ±1 s.
    const computer = await browser.newContext();
    const signin = await computer.newPage();
    const signinErrors = collectPageErrors(signin);
    await signin.goto(`${server.url}/auth/signin?lang=uz-Latn`);
    await signin.getByLabel('QR-kodni skanerlash').check();
    await signin.getByRole('button', { name: 'Kirish' }).click();
    const qrBox = signin.locator('#qr');
    await expect.poll(() => qrBox.getAttribute('data-qr'), { timeout: 10_000 }).toMatch(/^tasdiq\.as_/);
    const first = (await qrBox.getAttribute('data-qr'))!;
    // Right after a rotation, so the code shown has the most of its life left.
    await expect.poll(() => qrBox.getAttribute('data-qr'), { timeout: 5000, interval: 20 }).not.toBe(first);
    camera.show((await qrBox.getAttribute('data-qr'))!);

    await expect.poll(() => phone.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await cameraLive(phone)).toBe(false);
    await phone.getByRole('button', { name: 'Tasdiqlash', exact: true }).click();
    await expect.poll(() => signin.getByRole('status').textContent(), { timeout: 15_000 }).toBe('Kirdingiz (ishonch darajasi: substantial)');
    expect(errors).toEqual([]);
    expect(signinErrors).toEqual([]);
    await computer.close();
    await phoneContext.close();
  });
});
