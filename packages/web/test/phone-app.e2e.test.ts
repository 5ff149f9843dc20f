import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { SessionClient } from '../../client/src/index.ts';
import { enrollCitizen, type EnrolledCitizen } from '../../server/test/devices/enroll.ts';
import { addVirtualAuthenticator, collectPageErrors, skipBrowser } from './support/browser.ts';
import { contrastProblems } from './support/contrast.ts';
import { serverAndBrowser } from './support/suite.ts';

const PHONE = { viewport: { width: 390, height: 844 } };

describe.skipIf(skipBrowser)('citizen app: activation safety, signing, user verification, removal, accessibility (Chromium)', () => {
  const suite = serverAndBrowser();
  let rp: SessionClient;

  beforeAll(async () => {
    rp = new SessionClient(suite.server.url);
  });

  const db = () => suite.server.app.context.db;
  const devicesOf = (citizenId: string) => db().selectFrom('devices').select(['id', 'status', 'revocation_reason']).where('citizen_id', '=', citizenId).orderBy('created_at').execute();

  async function activate(page: Page, code: string, labels = { field: 'Faollashtirish kodi', button: 'Faollashtirish' }) {
    await page.getByLabel(labels.field).fill(code);
    await page.getByRole('button', { name: labels.button, exact: true }).click();
  }

  /** A phone-sized browser with a platform authenticator, running the activated app. */
  async function activatedPhone(citizen?: EnrolledCitizen): Promise<{ context: BrowserContext; page: Page; citizen: EnrolledCitizen; cdp: CDPSession; authenticatorId: string }> {
    const who = citizen ?? (await enrollCitizen(db(), suite.server.url));
    const context = await suite.browser.newContext(PHONE);
    const page = await context.newPage();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
    await page.goto(`${suite.server.url}/app/`);
    await activate(page, await who.activationCode());
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Ilova faollashtirildi');
    return { context, page, citizen: who, cdp, authenticatorId };
  }

  const pickCode = (page: Page) => page.getByRole('group', { name: 'Boshqa ekrandagi kodni tanlang' });

  it("a phone that cannot check its owner spends no code and leaves the citizen's working phone alone", async () => {
    // The citizen's current phone, in use.
    const old = await activatedPhone();
    const citizen = old.citizen;
    const [oldDevice] = await devicesOf(citizen.citizenId);

    // A new phone without a screen lock (no platform authenticator), the app in Russian.
    const context = await suite.browser.newContext(PHONE);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${suite.server.url}/app/`);
    await page.locator('.language select').selectOption('ru');
    const code = await citizen.activationCode();
    const activateRu = { field: 'Код активации', button: 'Активировать' };
    await activate(page, code, activateRu);
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toBe(
      'Не удалось активировать. На этом телефоне нет блокировки экрана (PIN-код, графический ключ, отпечаток пальца или лицо), которую может использовать приложение. Включите блокировку экрана в настройках телефона и активируйте снова: ваш код активации по-прежнему действует.',
    );
    // Focus moved to the explanation, so a screen reader reads it and the keyboard continues from it.
    expect(await page.evaluate<string | null | undefined>("document.activeElement?.getAttribute('role')")).toBe('alert');
    // Nothing reached the server: the code is unspent, the old phone is still the citizen's device.
    const unused = await db().selectFrom('activation_codes').select(['used_at']).where('citizen_id', '=', citizen.citizenId).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(unused.used_at).toBeNull();
    expect(await devicesOf(citizen.citizenId)).toEqual([{ id: oldDevice!.id, status: 'active', revocation_reason: null }]);

    // And it still works: a sign-in is confirmed on it.
    const signIn = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
    await old.page.bringToFront();
    await expect.poll(() => old.page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    await old.page.getByRole('button', { name: signIn.verificationCode!, exact: true }).click();
    await expect.poll(async () => (await rp.result(signIn)).result, { timeout: 10_000 }).toBe('OK');

    // A screen lock whose check fails (cancelled, or it could not verify): still nothing spent.
    await page.bringToFront();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await activate(page, code, activateRu);
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toBe(
      'Не удалось активировать. Проверка PIN-кода или отпечатка пальца отменена или её время истекло. Попробуйте ещё раз: ваш код активации по-прежнему действует.',
    );
    expect((await devicesOf(citizen.citizenId)).map((d) => d.status)).toEqual(['active']);

    // The server's own problem, in the app's language: a mistyped code.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    await activate(page, 'WRONG-CODE-1', activateRu);
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toBe('Не удалось активировать. Код активации неверен, уже использован или истёк');
    expect(await alert.textContent()).not.toMatch(/[a-z]+_[a-z_]+|Error/);

    // With a working screen lock the same code activates; the old phone is superseded only now.
    await activate(page, code, activateRu);
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Приложение активировано');
    const devices = await devicesOf(citizen.citizenId);
    expect(devices.map((d) => [d.status, d.revocation_reason])).toEqual([
      ['revoked', 'superseded'],
      ['active', null],
    ]);
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await context.close();
    await old.context.close();
  });

  it('signs a document from the keyboard alone; a failed PIN check sends nothing and the request waits', async () => {
    const { context, page, citizen, cdp, authenticatorId } = await activatedPhone();
    const errors = collectPageErrors(page);
    const confirms: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/confirm')) confirms.push(r.url());
    });
    const documentHash = createHash('sha256').update('ijara shartnomasi').digest('base64url');
    const signing = await rp.startSigning({ serviceId: 'notarius.uz', serviceName: 'Notarius', pinfl: citizen.pinfl, documentHash, documentName: 'Ijara shartnomasi.pdf' });

    // The request arrives: announced, and the keyboard is taken to it.
    await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByText("Notarius hujjatni imzolashni so'ramoqda").isVisible()).toBe(true);
    expect(await page.getByText('Hujjat: Ijara shartnomasi.pdf').isVisible()).toBe(true);
    expect(await page.getByTestId('request-announcement').textContent()).toBe("Yangi so'rov: Notarius");
    expect(await page.getByTestId('request-announcement').getAttribute('aria-live')).toBe('assertive');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('request-title');
    expect(await contrastProblems(page)).toEqual([]);

    /** Tabs forward until the button named `name` has focus, as a keyboard user would. */
    async function tabTo(name: string) {
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        if ((await page.evaluate<string | null | undefined>('document.activeElement?.textContent')) === name) return;
      }
      throw new Error(`Tab never reached ${name}`);
    }
    // The PIN check fails: nothing is sent, the request stays for another try.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await tabTo(signing.verificationCode!);
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 })
      .toBe("PIN-kod yoki biometrik tekshiruv o'tmadi: hech narsa yuborilmadi. Qayta urinib ko'ring yoki rad eting.");
    expect(confirms).toEqual([]);
    expect((await rp.result(signing)).state).toBe('pending');
    expect(await page.getByRole('heading', { name: "Yangi so'rov" }).isVisible()).toBe(true);
    expect(await contrastProblems(page)).toEqual([]);

    // With the PIN checked, Enter on the right code signs.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    await tabTo(signing.verificationCode!);
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Tasdiqlandi');
    expect(confirms).toHaveLength(1);
    const result = await rp.result(signing);
    expect(result).toMatchObject({ state: 'complete', result: 'OK' });
    const header = JSON.parse(Buffer.from(result.jws!.split('.')[0]!, 'base64url').toString()) as { typ: string };
    expect(header.typ).toBe('tasdiq-signature+jws');
    // The history, from the server, names the document signed.
    await expect.poll(() => page.getByRole('list', { name: 'Tarix' }).textContent(), { timeout: 10_000 }).toContain('Notarius: imzo «Ijara shartnomasi.pdf» — tasdiqlandi');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('removes itself from the devices screen after asking; the server revokes it', async () => {
    const { context, page, citizen } = await activatedPhone();
    const errors = collectPageErrors(page);
    const [device] = await devicesOf(citizen.citizenId);
    const remove = page.getByRole('button', { name: "Bu qurilmani o'chirish" });
    await remove.click();
    // It asks first; the keyboard lands on the answer, and "No" changes nothing.
    const ask = page.getByRole('group', { name: "Bu qurilma o'chirilsinmi? Keyin kirish uchun idoradan yangi faollashtirish kodi kerak bo'ladi." });
    expect(await ask.isVisible()).toBe(true);
    await expect.poll(() => page.evaluate<string | null | undefined>('document.activeElement?.textContent')).toBe("Ha, o'chirish");
    await ask.getByRole('button', { name: "Yo'q" }).click();
    await expect.poll(() => page.evaluate<string | null | undefined>('document.activeElement?.textContent')).toBe("Bu qurilmani o'chirish");
    expect((await devicesOf(citizen.citizenId))[0]!.status).toBe('active');

    await remove.click();
    await page.getByRole('button', { name: "Ha, o'chirish" }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe("Qurilma o'chirildi");
    expect(await page.getByLabel('Faollashtirish kodi').isVisible()).toBe(true);
    // The device's own POST /api/v1/device/revoke: revoked on the server, audited as the device's act.
    expect(await devicesOf(citizen.citizenId)).toEqual([{ id: device!.id, status: 'revoked', revocation_reason: 'device_revoked' }]);
    const audit = await db().selectFrom('audit_events').select(['actor_type', 'actor_id']).where('action', '=', 'device.revoked').where('subject_citizen_id', '=', citizen.citizenId).execute();
    expect(audit).toEqual([{ actor_type: 'device', actor_id: device!.id }]);
    // With no device left, a sign-in ends at once.
    const after = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'my.gov.uz', pinfl: citizen.pinfl });
    expect(after).toMatchObject({ state: 'complete', result: 'NOT_ACTIVATED' });
    // After a reload the app stays unactivated: its keys are gone from this suite.browser.
    await page.reload();
    await expect.poll(() => page.getByLabel('Faollashtirish kodi').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await contrastProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the history from the server in each language, with the sign-ins answered elsewhere', async () => {
    const { context, page, citizen } = await activatedPhone();
    const first = await rp.start({ serviceId: 'my.gov.uz', serviceName: 'Yagona portal', pinfl: citizen.pinfl });
    await expect.poll(() => page.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    await page.getByRole('button', { name: 'Rad etish' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe('Rad etildi');
    expect((await rp.result(first)).result).toBe('USER_REFUSED');
    const history = page.getByRole('list', { name: 'Tarix' });
    await expect.poll(() => history.textContent(), { timeout: 10_000 }).toContain('Yagona portal: kirish — rad etildi');
    // Nothing of it was kept in the browser: the list is the server's.
    expect(await page.evaluate<string[]>("Object.keys(localStorage).filter((k) => k.includes('history'))")).toEqual([]);

    for (const [lang, title, line] of [
      ['uz-Cyrl', 'Тарих', 'Yagona portal: кириш — рад этилди'],
      ['ru', 'История', 'Yagona portal: вход — отклонено'],
      ['en', 'History', 'Yagona portal: sign-in — refused'],
    ] as const) {
      await page.locator('.language select').selectOption(lang);
      await expect.poll(() => page.getByRole('list', { name: title }).textContent(), { timeout: 10_000 }).toContain(line);
    }
    await expect.poll(() => page.getByRole('list', { name: 'History' }).textContent()).toContain('The app was activated on this phone');
    expect(await pickCode(page).count()).toBe(0);
    await context.close();
  });
});
