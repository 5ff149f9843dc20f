import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { ClientRegistry } from '../../../packages/server/src/clients/index.ts';
import { testDialects } from '../../../packages/server/test/support/databases.ts';
import { enrollCitizen, type EnrolledCitizen } from '../../../packages/server/test/devices/enroll.ts';
import { activateApp, addVirtualAuthenticator, collectPageErrors, skipBrowser } from '../../../packages/web/test/support/browser.ts';
import { serverAndBrowser } from '../../../packages/web/test/support/suite.ts';
import { createRelyingParty, registration } from '../src/app.ts';
import { loadClientKey } from '../src/keys.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The whole journey in Chromium: the example service (openid-client) on its own port, the real
 * Tasdiq service with its sign-in pages, and the citizen's Tasdiq app (the PWA at /app/) on a
 * phone-sized page with a platform authenticator.
 */
describe.skipIf(skipBrowser).each(testDialects())('example relying party signs a citizen in, in Chromium, on %s', (dialect) => {
  const suite = serverAndBrowser(dialect);
  let rp: FastifyInstance;
  let rpUrl: string;
  let keyDir: string;

  beforeAll(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'tasdiq-rp-'));
    const port = await freePort();
    rpUrl = `http://localhost:${port}`;
    // The key is created on first start, as `npm start` in the example does.
    const key = await loadClientKey({ file: join(keyDir, 'client-key.json') });
    await new ClientRegistry(suite.server.app.context.db).register(registration({ publicUrl: rpUrl, clientId: 'example-rp', key }));
    rp = await createRelyingParty({ issuer: suite.server.url, publicUrl: rpUrl, clientId: 'example-rp', key, logger: !!process.env.RP_DEBUG });
    await rp.listen({ host: 'localhost', port });
  });

  afterAll(async () => {
    await rp?.close();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  async function activatedPhone(citizen: EnrolledCitizen): Promise<{ context: BrowserContext; phone: Page }> {
    const context = await suite.browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    await addVirtualAuthenticator(context, phone);
    await activateApp(phone, suite.server.url, await citizen.activationCode());
    return { context, phone };
  }

  it('phone number on the Tasdiq page, the matching code picked in the app, back at the service with the claims and acr; then signs out', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const { context: phoneContext, phone } = await activatedPhone(citizen);

    const computer = await suite.browser.newContext({ locale: 'en-US' });
    const page = await computer.newPage();
    const errors = collectPageErrors(page);
    await page.goto(rpUrl);
    await page.getByRole('button', { name: 'Sign in with Tasdiq' }).click();

    // Tasdiq's sign-in page (through PAR: the address carries only a request_uri).
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toMatch(/^\/signin\//);
    expect(new URL(page.url()).origin).toBe(suite.server.url);
    expect(await page.getByText('Service: Example service').isVisible()).toBe(true);
    await page.getByLabel('Phone number or PINFL').fill(citizen.phone);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('p.code').textContent(), { timeout: 10_000 }).toMatch(/^\d{4}$/);
    const shown = (await page.locator('p.code').textContent())!;

    // In the app: the request names the service, and the code shown on the computer is one of three.
    await expect.poll(() => phone.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    // The service is named in the sign-in page's language (English here), as the citizen reads it there.
    expect(await phone.getByText('Example service').first().isVisible()).toBe(true);
    const choices = await phone.getByRole('group', { name: 'Boshqa ekrandagi kodni tanlang' }).getByRole('button').allTextContents();
    expect(choices.filter((c) => /^\d{4}$/.test(c))).toHaveLength(3);
    expect(choices).toContain(shown);
    await phone.getByRole('button', { name: shown, exact: true }).click();
    await expect.poll(() => phone.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe('Tasdiqlandi');

    // The sign-in page notices by itself and asks for consent (first visit to this service).
    await expect.poll(() => page.getByRole('button', { name: 'Allow' }).isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.getByText('PINFL (personal identification number)').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back at the service, signed in.
    await expect.poll(() => page.url(), { timeout: 10_000 }).toBe(`${rpUrl}/?lang=en`);
    expect(await page.getByRole('status').textContent()).toBe('You are signed in');
    const claim = (name: string) => page.locator(`dd[data-claim="${name}"]`).textContent();
    expect(await claim('nameLatn')).toBe('Test Fuqaro X');
    expect(await claim('nameCyrl')).toBe('Тест Фуқаро Х');
    expect(await claim('pinfl')).toBe(`${'•'.repeat(10)}${citizen.pinfl.slice(-4)}`);
    expect(await page.content()).not.toContain(citizen.pinfl);
    // The PWA's keys are WebCrypto keys: browsers give no key attestation, so the app is a
    // software device and proves substantial (what the example asks), never high or hwk.
    expect(await claim('acr')).toBe('urn:tasdiq:acr:substantial');
    const amr = (await claim('amr'))!.split(', ');
    expect(amr).toEqual(expect.arrayContaining(['user', 'mfa', 'swk']));
    expect(amr).not.toContain('hwk');
    expect(await suite.server.app.context.db.selectFrom('devices').select('key_storage').where('citizen_id', '=', citizen.citizenId).execute()).toEqual([{ key_storage: 'software' }]);
    expect(await claim('subject')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    await page.screenshot({ path: `${process.env.TASDIQ_SCREENSHOTS ?? '/tmp'}/tasdiq-example-rp-${dialect}.png`, fullPage: true });

    // Tasdiq recorded the consent the citizen gave, which they can later withdraw in the app.
    const consents = await suite.server.app.context.db
      .selectFrom('oidc_consents')
      .select(['client_id', 'withdrawn_at'])
      .where('citizen_id', '=', citizen.citizenId)
      .execute();
    expect(consents).toEqual([{ client_id: 'example-rp', withdrawn_at: null }]);

    // Sign-out: Tasdiq asks, then returns to the service's registered post-logout page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Yes, sign me out' }).isVisible(), { timeout: 10_000 }).toBe(true);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await expect.poll(() => page.url(), { timeout: 10_000 }).toBe(`${rpUrl}/signed-out`);
    expect(await page.getByRole('status').textContent()).toBe('You are signed out');
    await page.goto(rpUrl);
    expect(await page.getByRole('button', { name: 'Sign in with Tasdiq' }).isVisible()).toBe(true);

    // Signing in again needs the phone again: Tasdiq's session ended too.
    await page.getByRole('button', { name: 'Sign in with Tasdiq' }).click();
    await expect.poll(() => page.getByLabel('Phone number or PINFL').isVisible(), { timeout: 10_000 }).toBe(true);

    expect(errors).toEqual([]);
    await computer.close();
    await phoneContext.close();
  });

  it('device link: no number typed, the app scans the QR the Tasdiq page keeps fresh, and the citizen lands back signed in', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const { context: phoneContext, phone } = await activatedPhone(citizen);
    const computer = await suite.browser.newContext({ locale: 'en-US' });
    const page = await computer.newPage();
    const errors = collectPageErrors(page);
    await page.goto(rpUrl);
    await page.getByRole('button', { name: 'Sign in with Tasdiq' }).click();
    await page.getByLabel('By scanning a QR code with the Tasdiq app (no number needed)').check();
    await page.getByRole('button', { name: 'Continue' }).click();

    const qr = page.getByRole('img', { name: 'QR code for the Tasdiq app' });
    await expect.poll(() => qr.getAttribute('data-qr'), { timeout: 10_000 }).toMatch(/^tasdiq\.as_/);
    expect(await qr.locator('svg').count()).toBe(1);
    const first = await qr.getAttribute('data-qr');
    await expect.poll(() => qr.getAttribute('data-qr'), { timeout: 5000 }).not.toBe(first); // the page's script refreshes it

    // The camera sees what the page shows now (the test types it into the app's QR field).
    await phone.getByLabel('QR-kod matni').fill((await qr.getAttribute('data-qr'))!);
    await phone.getByRole('button', { name: 'Ulash' }).click();
    await expect.poll(() => phone.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    await phone.getByRole('button', { name: 'Tasdiqlash', exact: true }).click();

    await expect.poll(() => page.getByRole('button', { name: 'Allow' }).isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByRole('button', { name: 'Allow' }).click();
    await expect.poll(() => page.url(), { timeout: 10_000 }).toBe(`${rpUrl}/?lang=en`);
    expect(await page.locator('dd[data-claim="pinfl"]').textContent()).toBe(`${'•'.repeat(10)}${citizen.pinfl.slice(-4)}`);
    expect(await page.locator('dd[data-claim="acr"]').textContent()).toBe('urn:tasdiq:acr:substantial');
    expect(errors).toEqual([]);
    await computer.close();
    await phoneContext.close();
  });

  it('a callback without a sign-in in progress, or with a forged state, is refused with a page, not a session', async () => {
    const page = await suite.browser.newPage({ locale: 'en-US' });
    const response = await page.goto(`${rpUrl}/callback?code=forged&state=forged&iss=${encodeURIComponent(suite.server.url)}`);
    expect(response!.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('no_signin_in_progress');

    // A real sign-in started, then a callback with someone else's state: the state check refuses it.
    await page.goto(rpUrl);
    await page.getByRole('button', { name: 'Sign in with Tasdiq' }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toMatch(/^\/signin\//);
    const forged = await page.goto(`${rpUrl}/callback?code=forged&state=not-mine&iss=${encodeURIComponent(suite.server.url)}`);
    expect(forged!.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toMatch(/Sign-in failed: \S+/);
    await page.goto(rpUrl);
    expect(await page.getByRole('button', { name: 'Sign in with Tasdiq' }).isVisible()).toBe(true);
    await page.close();
  });
});
