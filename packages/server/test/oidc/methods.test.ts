import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { DeviceClient } from '../../../client/src/index.ts';
import type { TestApp } from '../support/app.ts';
import { testDialects } from '../support/databases.ts';
import { enrollCitizen } from '../devices/enroll.ts';
import { hardwareKeyStore } from '../support/key-attestation.ts';
import { ClientRegistry } from '../../src/clients/index.ts';
import { Browser, REDIRECT_URI } from './rp.ts';
import { createOidcTestApp, type OidcTestApp } from './support.ts';

/**
 * The other ways to confirm, through the deployed device authentication: an SMS code for a
 * basic phone, the app linked by the sign-in page's rotating QR, and CIBA, where the phone
 * shows the relying party's binding message instead of a code choice.
 */
describe.each(testDialects())('sign-in pages: SMS code, device-link QR and CIBA with a phone, on %s', (dialect) => {
  let service: OidcTestApp;
  let app: TestApp;
  let baseUrl: string;
  beforeAll(async () => {
    service = await createOidcTestApp(dialect);
    ({ app, baseUrl } = service);
  });
  afterAll(() => service.close());

  async function relyingParty(clientId: string, acrValues: string[], extra: Record<string, unknown> = {}) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await new ClientRegistry(app.context.db).register({
      client_id: clientId,
      name: { 'uz-Latn': 'Pochta', 'uz-Cyrl': 'Почта', ru: 'Почта', en: 'Post' },
      redirect_uris: [REDIRECT_URI],
      jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
      scopes: ['openid', 'pinfl'],
      acr_values: acrValues,
      contacts: ['it@pochta.example.uz'],
      ...extra,
    });
    return client.discovery(new URL(baseUrl), clientId, undefined, client.PrivateKeyJwt(privateKey), { execute: [client.allowInsecureRequests] });
  }

  async function authorization(config: client.Configuration, acr: string) {
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid pinfl',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      acr_values: acr,
    });
    return { url, verifier };
  }

  /** From the approved attempt to the code: consent the first time, then the redirect. */
  async function finish(browser: Browser, path: string): Promise<URL> {
    let page = await browser.follow(await browser.get(new URL(`${path}/complete?lang=en`, baseUrl)), baseUrl);
    if (page.status === 200) page = await browser.follow(await browser.post(new URL(`${new URL(page.url).pathname}/consent`, baseUrl), { decision: 'allow' }), baseUrl);
    expect(page.status).toBe(303);
    return new URL(page.headers.get('location')!);
  }

  it('SMS code: offered only where the service accepts the low level; a wrong code costs an attempt; the right one signs in at low', async () => {
    const citizen = await enrollCitizen(app.context.db, baseUrl);
    // The citizen has the app too, but left the phone with it at home.
    await DeviceClient.activate(baseUrl, await citizen.activationCode());
    const config = await relyingParty('pochta-sms', ['urn:tasdiq:acr:low', 'urn:tasdiq:acr:substantial']);

    // Asking for substantial: no SMS choice, and a forged SMS start is refused with the form.
    const strict = await authorization(config, 'urn:tasdiq:acr:substantial');
    const strictBrowser = new Browser();
    const strictEntry = await strictBrowser.follow(await strictBrowser.get(strict.url), baseUrl);
    const strictHtml = await strictEntry.text();
    expect(strictHtml).toContain('value="device_link"');
    expect(strictHtml).not.toContain('value="sms_otp"');
    const forged = await strictBrowser.post(new URL(`${new URL(strictEntry.url).pathname}/start?lang=en`, baseUrl), { hint: citizen.phone, method: 'sms_otp' });
    expect(forged.status).toBe(400);

    const { url, verifier } = await authorization(config, 'urn:tasdiq:acr:low');
    const browser = new Browser();
    const entry = await browser.follow(await browser.get(url), baseUrl);
    expect(await entry.text()).toContain('value="sms_otp"');
    const path = new URL(entry.url).pathname;
    const started = await browser.follow(await browser.post(new URL(`${path}/start?lang=en`, baseUrl), { hint: citizen.phone, method: 'sms_otp' }), baseUrl);
    const form = await started.text();
    expect(form).toContain('autocomplete="one-time-code"');

    const inbox = `${baseUrl}/api/v1/dev/messages?recipient=${encodeURIComponent(citizen.phone)}`;
    let text = '';
    await expect
      .poll(async () => {
        const items = ((await (await fetch(inbox)).json()) as { items: Array<{ kind: string; text: string }> }).items;
        text = items.find((m) => m.kind === 'auth.sms_otp')?.text ?? '';
        return text;
      }, { timeout: 15_000 })
      .toMatch(/#\d{6}$/);
    expect(text).toContain(`@${new URL(baseUrl).host} #`);
    const code = /#(\d{6})$/.exec(text)![1]!;

    const malformed = await browser.post(new URL(`${path}/otp?lang=en`, baseUrl), { code: '12ab' });
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain('Enter the 6 digits');
    const wrong = await browser.post(new URL(`${path}/otp?lang=en`, baseUrl), { code: code === '000000' ? '000001' : '000000' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/Wrong code\. Attempts left: \d/);
    const right = await browser.post(new URL(`${path}/otp?lang=en`, baseUrl), { code });
    expect(right.status).toBe(303);

    const redirect = await finish(browser, path);
    const tokens = await client.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: verifier });
    expect(tokens.claims()).toMatchObject({ acr: 'urn:tasdiq:acr:low', amr: ['sms', 'otp'] });
  });

  it('device link: no number typed, the app links with the current QR and confirms; an old QR no longer links', async () => {
    const citizen = await enrollCitizen(app.context.db, baseUrl);
    // Enrolled in person, keys attested as hardware-backed: high.
    const phone = await DeviceClient.activate(baseUrl, await citizen.activationCode(), { keyAttestation: await hardwareKeyStore() });
    const config = await relyingParty('pochta-qr', ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const { url, verifier } = await authorization(config, 'urn:tasdiq:acr:substantial');
    const browser = new Browser();
    const entry = await browser.follow(await browser.get(url), baseUrl);
    const path = new URL(entry.url).pathname;
    const shown = await browser.follow(await browser.post(new URL(`${path}/start?lang=en`, baseUrl), { hint: '', method: 'device_link' }), baseUrl);
    const page = await shown.text();
    expect(page).toContain('Scan the QR code');
    const initial = /data-qr="([^"]+)"/.exec(page)?.[1];
    expect(initial).toMatch(/^tasdiq\.as_/);
    expect(page).toContain('<svg');

    await new Promise((r) => setTimeout(r, 3500));
    const current = (await (await browser.get(new URL(`${path}/qr`, baseUrl))).json()) as { qr: string; svg: string };
    expect(current.qr).not.toBe(initial);
    expect(current.svg).toContain('<svg');
    await expect(phone.link(initial!)).rejects.toThrow();

    const fresh = (await (await browser.get(new URL(`${path}/qr`, baseUrl))).json()) as { qr: string };
    const request = await phone.link(fresh.qr);
    // The page is in English: the phone names the service in English too.
    expect(request.service).toBe('Post');
    await phone.confirm(request);
    expect((await (await browser.get(new URL(`${path}/status`, baseUrl))).json()) as unknown).toEqual({ status: 'approved' });
    const redirect = await finish(browser, path);
    const tokens = await client.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: verifier });
    const claims = tokens.claims()!;
    expect(claims.acr).toBe('urn:tasdiq:acr:high');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(userinfo.pinfl).toBe(citizen.pinfl);
  });

  it('CIBA poll: the phone shows the binding message to confirm (no code choice), and the client collects the tokens', async () => {
    const citizen = await enrollCitizen(app.context.db, baseUrl);
    const phone = await DeviceClient.activate(baseUrl, await citizen.activationCode(), { keyAttestation: await hardwareKeyStore() });
    const config = await relyingParty('pochta-ciba', ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'], { ciba_delivery_mode: 'poll', subject_type: 'public' });
    // openid only: claims beyond it need a consent given at a browser sign-in (ciba-consent.test.ts).
    const started = await client.initiateBackchannelAuthentication(config, {
      scope: 'openid',
      login_hint: citizen.phone,
      binding_message: 'Посылка №4521: выдача',
      acr_values: 'urn:tasdiq:acr:substantial',
    });
    const request = (await phone.pending())!;
    expect(request).toMatchObject({ interaction: 'confirmation_message', service: 'Pochta', verificationCodeChoices: null });
    expect(request.confirmationMessage ?? request.reason).toContain('Посылка №4521: выдача');
    await phone.confirm(request);
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0.05 });
    expect(tokens.claims()).toMatchObject({ acr: 'urn:tasdiq:acr:high', sub: citizen.citizenId });
  });
});
