import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { inviteOperator } from '../../server/src/enrollment/index.ts';
import { testDialects } from '../../server/test/support/databases.ts';
import { addVirtualAuthenticator, collectPageErrors, heading, headingOrAlert, skipBrowser } from './support/browser.ts';
import { serverAndBrowser } from './support/suite.ts';

const CLIENT_ID = 'e2e-tax-portal';
const SCREENSHOTS = process.env.TASDIQ_SCREENSHOTS ?? '/tmp';

/** The text a screen reader reads as a control's description (its aria-describedby elements). */
async function description(page: Page, control: Locator): Promise<string> {
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
  return texts.join(' ');
}

/**
 * Issue 5, "Clients": an administrator registers a relying party in the console, is told
 * precisely what is wrong with a bad redirect URI, fixes it, adds a redirect URI, and disables
 * the service; the provider follows each step (a real PAR request to the running server).
 */
describe.skipIf(skipBrowser).each(testDialects())('relying parties in the console, in Chromium, on %s', (dialect) => {
  const suite = serverAndBrowser(dialect);
  let context: BrowserContext;
  let page: Page;
  let privateKey: CryptoKey;
  let publicJwk: Record<string, unknown>;
  const pageErrors: string[][] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'e2e-1', alg: 'ES256', use: 'sig' };
  });

  afterAll(async () => {
    await context?.close();
  });

  /** A pushed authorization request by the relying party itself (private_key_jwt), as openid-client sends it. */
  async function pushAuthorization(redirectUri: string): Promise<unknown> {
    const config = await client.discovery(new URL(suite.server.url), CLIENT_ID, undefined, client.PrivateKeyJwt(privateKey), { execute: [client.allowInsecureRequests] });
    return client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri,
      scope: 'openid pinfl',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
  }

  async function signInAsNewOperator(ctx: BrowserContext, role: 'admin' | 'operator', name: string): Promise<Page> {
    const invitation = await inviteOperator(
      suite.server.app.context.db,
      { name, role, officeId: 'psc-tk-01', createdBy: 'cli', createdByOffice: null, publicUrl: suite.server.url },
      Date.now(),
    );
    const p = await ctx.newPage();
    pageErrors.push(collectPageErrors(p));
    await addVirtualAuthenticator(ctx, p);
    await p.goto(invitation.registrationUrl);
    await p.getByLabel('Til', { exact: true }).selectOption('en');
    await p.getByRole('button', { name: 'Create a passkey' }).click();
    await expect.poll(() => headingOrAlert(p), { timeout: 10_000 }).toBe('Find a citizen');
    return p;
  }

  it('registers a client after a field error, edits it, refuses a stale edit, and disables it; the provider follows', async () => {
    context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await signInAsNewOperator(context, 'admin', 'Malika Admin');

    await page.getByRole('link', { name: 'Relying parties' }).click();
    await expect.poll(() => heading(page)).toBe('Relying parties');
    await expect.poll(() => page.getByText('No relying party is registered yet.').count()).toBe(1);

    // The registration form, with a redirect URI the server must refuse.
    await page.getByLabel('Client ID (client_id)', { exact: true }).fill(CLIENT_ID);
    await page.getByLabel("Name (O'zbekcha)", { exact: true }).fill('Soliq portali (sinov)');
    await page.getByLabel('Name (Ўзбекча)', { exact: true }).fill('Солиқ портали (синов)');
    await page.getByLabel('Name (Русский)', { exact: true }).fill('Налоговый портал (тест)');
    await page.getByLabel('Name (English)', { exact: true }).fill('Tax portal (test)');
    const redirects = page.getByLabel('Redirect URIs', { exact: true });
    await redirects.fill('http://rp.example.uz/cb');
    await page.getByLabel('JWKS (public keys, JSON)', { exact: true }).fill(JSON.stringify({ keys: [publicJwk] }));
    await page.getByLabel('pinfl', { exact: true }).check();
    await page.getByLabel('high: app after in-person enrollment, hardware-backed key', { exact: true }).check();
    await page.getByLabel('Contact e-mail addresses', { exact: true }).fill('security@soliq.example.uz');
    await page.getByRole('button', { name: 'Register the service' }).click();

    await expect.poll(() => redirects.getAttribute('aria-invalid')).toBe('true');
    expect(await description(page, redirects)).toContain('line 1: must use https');
    const summary = page.getByRole('alert');
    expect(await summary.getAttribute('data-code')).toBe('client_invalid');
    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-console-clients-error-${dialect}.png`, fullPage: true });
    expect(await summary.textContent()).toContain('Redirect URIs: line 1: must use https');
    // The summary takes focus, so a screen reader announces it; its link leads to the field.
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("role")')).toBe('alert');
    await summary.getByRole('link', { name: 'Redirect URIs' }).click();
    expect(await page.evaluate('document.activeElement && document.activeElement.tagName')).toBe('TEXTAREA');
    // Nothing was registered.
    expect((await (await page.request.get(`${suite.server.url}/api/v1/admin/clients`)).json()).items).toEqual([]);

    await redirects.fill('https://rp.example.uz/cb');
    await page.getByRole('button', { name: 'Register the service' }).click();
    await expect.poll(() => heading(page)).toBe('Relying party: Tax portal (test)');
    expect(new URL(page.url()).pathname).toBe(`/console/clients/${CLIENT_ID}`);
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Tax portal (test) is registered.');
    expect(await page.getByTestId('client-status').textContent()).toBe('active');
    expect(await page.getByTestId('client-version').textContent()).toBe('1');

    // The provider knows it at once: its own PAR with the registered redirect URI is accepted,
    // one with a redirect URI not (yet) registered is not.
    expect(String(await pushAuthorization('https://rp.example.uz/cb'))).toMatch(/[?&]request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A/);
    expect(await pushAuthorization('https://rp.example.uz/second').catch((e: { error?: string }) => e.error)).toBe('invalid_request');

    await page.screenshot({ path: `${SCREENSHOTS}/tasdiq-console-client-${dialect}.png`, fullPage: true });
    // A second tab loads the same version before the edit below.
    const stale = await context.newPage();
    pageErrors.push(collectPageErrors(stale));
    await stale.goto(page.url().replace(/\?.*$/, ''));
    await expect.poll(() => heading(stale)).toBe('Relying party: Tax portal (test)');

    // Edit: add a redirect URI.
    const edited = page.getByLabel('Redirect URIs', { exact: true });
    expect(await edited.inputValue()).toBe('https://rp.example.uz/cb');
    await edited.fill('https://rp.example.uz/cb\nhttps://rp.example.uz/second');
    await page.getByRole('button', { name: 'Save the changes' }).click();
    await expect.poll(() => page.getByText('Changes saved (version 2).').count()).toBe(1);
    expect(await page.getByTestId('client-version').textContent()).toBe('2');
    expect(await page.getByLabel('Redirect URIs', { exact: true }).inputValue()).toBe('https://rp.example.uz/cb\nhttps://rp.example.uz/second');
    expect(String(await pushAuthorization('https://rp.example.uz/second'))).toMatch(/[?&]request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A/);

    // The other tab's edit, over version 1, is refused instead of overwriting the new URI.
    await stale.getByLabel('Contact e-mail addresses', { exact: true }).fill('other@soliq.example.uz');
    await stale.getByRole('button', { name: 'Save the changes' }).click();
    await expect.poll(() => stale.getByRole('alert').getAttribute('data-code')).toBe('client_version_conflict');
    await stale.getByRole('button', { name: /^Load the current version/ }).click();
    await expect.poll(() => stale.getByTestId('client-version').textContent()).toBe('2');
    expect(await stale.getByLabel('Redirect URIs', { exact: true }).inputValue()).toBe('https://rp.example.uz/cb\nhttps://rp.example.uz/second');
    expect(await stale.getByLabel('Contact e-mail addresses', { exact: true }).inputValue()).toBe('security@soliq.example.uz');
    await stale.close();

    // Disable: from now on the provider does not know the client.
    await page.getByRole('button', { name: 'Disable the service' }).click();
    await expect.poll(() => page.getByTestId('client-status').textContent()).toBe('disabled');
    expect(await page.getByRole('status').first().textContent()).toBe('Tax portal (test) is disabled: its sign-ins and token requests are refused from now on.');
    expect(await pushAuthorization('https://rp.example.uz/cb').catch((e: { error?: string }) => e.error)).toBe('invalid_client');
    // A browser sent to the authorization endpoint with it meets an error page, not a sign-in.
    const { authorization_endpoint: endpoint } = (await (await fetch(`${suite.server.url}/.well-known/openid-configuration`)).json()) as { authorization_endpoint: string };
    const authorize = await fetch(`${endpoint}?client_id=${CLIENT_ID}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Frp.example.uz%2Fcb`, { redirect: 'manual' });
    expect(authorize.status).toBe(400);
    expect(await authorize.text()).toContain('<code>invalid_client</code>');

    // The list shows it disabled, in every language.
    await page.getByRole('link', { name: 'All relying parties' }).click();
    await expect.poll(() => heading(page)).toBe('Relying parties');
    const row = page.locator(`tr[data-client-id="${CLIENT_ID}"]`);
    await expect.poll(() => row.locator('td').allTextContents()).toEqual([
      'Tax portal (test)',
      CLIENT_ID,
      'disabled',
      'openid pinfl',
      'substantial, high',
      expect.stringMatching(/\d/),
    ]);
    await page.getByLabel('Language', { exact: true }).selectOption('ru');
    await expect.poll(() => heading(page)).toBe('Сервисы (клиенты)');
    expect(await row.locator('td').nth(0).textContent()).toBe('Налоговый портал (тест)');
    expect(await row.locator('td').nth(2).textContent()).toBe('отключён');
    await page.getByLabel('Язык', { exact: true }).selectOption('uz-Cyrl');
    await expect.poll(() => heading(page)).toBe('Хизматлар (мижозлар)');
    await page.getByLabel('Тил', { exact: true }).selectOption('uz-Latn');
    await expect.poll(() => heading(page)).toBe('Xizmatlar (mijozlar)');
    await page.getByLabel('Til', { exact: true }).selectOption('en');

    // Each change is in the audit log, by this admin, naming what changed and not the keys.
    const audit = (await (await page.request.get(`${suite.server.url}/api/v1/audit?limit=50`)).json()) as {
      items: Array<{ action: string; actorType: string; details: Record<string, unknown> }>;
    };
    const events = audit.items.filter((e) => e.action.startsWith('clients.')).reverse();
    expect(events.map((e) => e.action)).toEqual(['clients.registered', 'clients.updated', 'clients.disabled']);
    expect(events.every((e) => e.actorType === 'operator')).toBe(true);
    expect(events[1]!.details).toEqual({ clientId: CLIENT_ID, changed: ['redirect_uris'], version: 2 });
    expect(JSON.stringify(audit)).not.toContain(String(publicJwk.x));
    expect(pageErrors.flat()).toEqual([]);
  });

  it('is for administrators only: an operator sees no link and gets no page', async () => {
    const theirs = await suite.browser.newContext();
    const theirPage = await signInAsNewOperator(theirs, 'operator', 'Aziz Operator');
    expect(await theirPage.getByRole('link', { name: 'Relying parties' }).count()).toBe(0);
    await theirPage.goto(`${suite.server.url}/console/clients`);
    await expect.poll(() => heading(theirPage)).toBe('Page not found');
    expect((await theirPage.request.get(`${suite.server.url}/api/v1/admin/clients`)).status()).toBe(403);
    await theirs.close();
    expect(pageErrors.flat()).toEqual([]);
  });
});
