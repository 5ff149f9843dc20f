import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { ClientRegistry } from '../../server/src/clients/index.ts';
import { enrollCitizen, type EnrolledCitizen } from '../../server/test/devices/enroll.ts';
import { testDialects } from '../../server/test/support/databases.ts';
import { Browser, REDIRECT_URI } from '../../server/test/oidc/rp.ts';
import { activateApp, addVirtualAuthenticator, collectPageErrors, skipBrowser } from './support/browser.ts';
import { serverAndBrowser } from './support/suite.ts';

const CLIENT_ID = 'soliq-consents';

/**
 * Issue 5 in the citizen's app: a real OpenID sign-in (PAR, PKCE, DPoP, the sign-in pages, the
 * code picked in the PWA, consent allowed) leaves a consent that the app lists and withdraws.
 */
describe.skipIf(skipBrowser).each(testDialects())('the Tasdiq app lists and withdraws consents, in Chromium, on %s', (dialect) => {
  const suite = serverAndBrowser(dialect);
  let config: client.Configuration;
  let dpop: client.DPoPHandle;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await new ClientRegistry(suite.server.app.context.db).register({
      client_id: CLIENT_ID,
      name: { 'uz-Latn': 'Soliq xizmati', 'uz-Cyrl': 'Солиқ хизмати', ru: 'Налоговая служба', en: 'Tax service' },
      redirect_uris: [REDIRECT_URI],
      jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
      scopes: ['openid', 'profile', 'pinfl', 'offline_access'],
      acr_values: ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'],
      contacts: ['it@soliq.example.uz'],
    });
    config = await client.discovery(new URL(suite.server.url), CLIENT_ID, undefined, client.PrivateKeyJwt(privateKey), { execute: [client.allowInsecureRequests] });
    dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  });

  /**
   * The sign-in pages driven over HTTP up to the consent question; the phone's part is done in
   * the PWA. Returns the consent page, or the redirect when no consent was asked.
   */
  async function signInUpTo(phone: Page, citizen: EnrolledCitizen, params: Record<string, string>): Promise<{ browser: Browser; verifier: string; page: Response }> {
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(
      config,
      { redirect_uri: REDIRECT_URI, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params },
      { DPoP: dpop },
    );
    const browser = new Browser();
    const entry = await browser.follow(await browser.get(url), suite.server.url);
    const path = new URL(entry.url).pathname;
    const started = await browser.follow(await browser.post(new URL(`${path}/start?lang=en`, suite.server.url), { hint: citizen.phone }), suite.server.url);
    const shown = /<p class="code"[^>]*>([^<]+)<\/p>/.exec(await started.text())?.[1];
    expect(shown).toMatch(/^\d{4}$/);
    await expect.poll(() => phone.getByRole('heading', { name: "Yangi so'rov" }).isVisible(), { timeout: 10_000 }).toBe(true);
    await phone.getByRole('button', { name: shown!, exact: true }).click();
    await expect.poll(() => phone.getByRole('status').first().textContent(), { timeout: 10_000 }).toBe('Tasdiqlandi');
    const page = await browser.follow(await browser.get(new URL(`${path}/complete?lang=en`, suite.server.url)), suite.server.url);
    return { browser, verifier, page };
  }

  it('shows the service with its claims in plain words, withdraws it after asking, and the service loses its tokens', async () => {
    const citizen = await enrollCitizen(suite.server.app.context.db, suite.server.url);
    const context = await suite.browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    await addVirtualAuthenticator(context, phone);
    const errors = collectPageErrors(phone);
    await activateApp(phone, suite.server.url, await citizen.activationCode());
    const section = phone.getByRole('region', { name: 'Ruxsat bergan xizmatlarim' });
    await expect.poll(() => section.getByText('Hali hech bir xizmatga ruxsat bermagansiz').isVisible(), { timeout: 10_000 }).toBe(true);

    // First sign-in to the service: consent is asked and allowed; offline_access brings a refresh token.
    const first = await signInUpTo(phone, citizen, { scope: 'openid profile pinfl offline_access', prompt: 'consent' });
    expect(first.page.status).toBe(200);
    const consentPage = await first.page.text();
    expect(consentPage).toContain('name="decision"');
    const callback = await first.browser.follow(await first.browser.post(new URL(`${new URL(first.page.url).pathname}/consent`, suite.server.url), { decision: 'allow' }), suite.server.url);
    expect(callback.status).toBe(303);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback.headers.get('location')!), { pkceCodeVerifier: first.verifier }, undefined, { DPoP: dpop });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });

    // The app, opened again, lists the service in its language with the claims in plain words.
    await phone.reload();
    const row = section.getByRole('listitem').filter({ has: phone.getByRole('heading', { name: 'Soliq xizmati' }) });
    await expect.poll(() => row.isVisible(), { timeout: 15_000 }).toBe(true);
    const claims = await row.getByRole('list', { name: "Soliq xizmati: Oladigan ma'lumotlar" }).getByRole('listitem').allTextContents();
    expect(claims).toEqual(['Siz tizimda bo\'lmaganingizda ham kirish', 'Ushbu xizmat uchun doimiy identifikator', 'JShShIR', 'Familiya, ism, otasining ismi (lotin va kirill)']);
    expect(await row.getByText(/^Ruxsat berilgan: /).isVisible()).toBe(true);

    // In another language the server names the service in it, and the claims follow.
    await phone.getByLabel('Til', { exact: true }).selectOption('ru');
    const ruRow = phone
      .getByRole('region', { name: 'Сервисы, которым я дал(а) согласие' })
      .getByRole('listitem')
      .filter({ has: phone.getByRole('heading', { name: 'Налоговая служба' }) });
    await expect.poll(() => ruRow.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await ruRow.getByRole('list', { name: 'Налоговая служба: Получаемые данные' }).textContent()).toContain('ПИНФЛ');
    expect(await ruRow.getByRole('button', { name: 'Налоговая служба: отозвать согласие' }).isVisible()).toBe(true);
    await phone.getByLabel('Язык', { exact: true }).selectOption('uz-Latn');
    await expect.poll(() => row.isVisible(), { timeout: 10_000 }).toBe(true);

    // Withdrawal asks first; cancelling keeps the consent and returns focus to the button.
    const withdraw = phone.getByRole('button', { name: 'Soliq xizmati: ruxsatni qaytarib olish' });
    await withdraw.click();
    const confirm = phone.getByRole('group', { name: 'Soliq xizmati uchun ruxsat qaytarib olinsinmi? Xizmatdagi kirishingiz tugaydi.' });
    await expect.poll(() => confirm.isVisible()).toBe(true);
    expect(await phone.locator(':focus').textContent()).toBe('Ha, qaytarib olish');
    await confirm.getByRole('button', { name: 'Bekor qilish' }).click();
    await expect.poll(() => phone.locator(':focus').getAttribute('id')).toBe(`withdraw-${CLIENT_ID}`);
    const live = await suite.server.app.context.db.selectFrom('oidc_consents').select('withdrawn_at').where('citizen_id', '=', citizen.citizenId).execute();
    expect(live).toEqual([{ withdrawn_at: null }]);

    await withdraw.click();
    await confirm.getByRole('button', { name: 'Ha, qaytarib olish' }).click();
    const announcement = phone.locator('#consents-announcement');
    await expect.poll(() => announcement.textContent(), { timeout: 10_000 }).toBe('Soliq xizmati uchun ruxsat qaytarib olindi');
    expect(await announcement.getAttribute('aria-live')).toBe('polite');
    expect(await row.count()).toBe(0);
    expect(await section.getByText('Hali hech bir xizmatga ruxsat bermagansiz').isVisible()).toBe(true);
    expect(await phone.locator(':focus').getAttribute('id')).toBe('consents-title');

    // On the server: withdrawn, audited, and the service's refresh token is dead.
    const stored = await suite.server.app.context.db.selectFrom('oidc_consents').select(['client_id', 'withdrawn_at']).where('citizen_id', '=', citizen.citizenId).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.client_id).toBe(CLIENT_ID);
    expect(stored[0]!.withdrawn_at).not.toBeNull();
    const audit = await suite.server.app.context.db.selectFrom('audit_events').select('actor_id').where('action', '=', 'oidc.consent_withdrawn').where('actor_id', '=', citizen.citizenId).execute();
    expect(audit).toHaveLength(1);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token ?? tokens.refresh_token!, undefined, { DPoP: dpop })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);

    // The next sign-in, without prompt=consent, asks again.
    const again = await signInUpTo(phone, citizen, { scope: 'openid profile pinfl' });
    expect(again.page.status).toBe(200);
    expect(await again.page.text()).toContain('name="decision"');
    const allowed = await again.browser.post(new URL(`${new URL(again.page.url).pathname}/consent`, suite.server.url), { decision: 'allow' });
    expect((await again.browser.follow(allowed, suite.server.url)).status).toBe(303);

    // Back in the app (it comes into view again), the service is listed once more.
    await phone.evaluate("document.dispatchEvent(new Event('visibilitychange'))");
    await expect.poll(() => row.isVisible(), { timeout: 10_000 }).toBe(true);
    // Only what this sign-in asked for: the withdrawn consent's offline access is not carried over.
    const claimsNow = await row.getByRole('list', { name: "Soliq xizmati: Oladigan ma'lumotlar" }).getByRole('listitem').allTextContents();
    expect(claimsNow).toEqual(['Ushbu xizmat uchun doimiy identifikator', 'JShShIR', 'Familiya, ism, otasining ismi (lotin va kirill)']);

    expect(errors).toEqual([]);
    await context.close();
  });
});
