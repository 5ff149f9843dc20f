import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { DeviceClient } from '../../../client/src/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { enrollCitizen, type EnrolledCitizen } from '../devices/enroll.ts';
import { hardwareKeyStore } from '../support/key-attestation.ts';
import { ClientRegistry } from '../../src/clients/index.ts';
import type { Dialect } from '../../src/platform/db/index.ts';
import { oidcModule, type OidcService } from '../../src/oidc/index.ts';
import { Browser, REDIRECT_URI } from './rp.ts';
import { freePort } from './support.ts';

/*
 * The journeys of the provider's own tests (acr, claims, consent, grants, cancelling, language,
 * CIBA): the whole service as deployed on a real port, relying parties registered in the
 * registry, citizens enrolled with a phone running packages/client's DeviceClient, and
 * openid-client as the relying party. Nothing here stands in for a component.
 */

export interface Service {
  readonly app: TestApp;
  readonly baseUrl: string;
  readonly oidc: OidcService;
  close(): Promise<void>;
}

export async function startService(dialect: Dialect, config: Record<string, string | number | boolean> = {}): Promise<Service> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tasdiq-oidc-journey-'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const app = await createTestApp(dialect, { config: { port, publicUrl: baseUrl, dataDir, ...config } });
  await app.http.listen({ host: '127.0.0.1', port });
  return {
    app,
    baseUrl,
    oidc: oidcModule.service(app.context),
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const NAMES = { 'uz-Latn': 'Pochta', 'uz-Cyrl': 'Почта', ru: 'Почта России', en: 'Post office' } as const;

export interface Rp {
  readonly clientId: string;
  readonly config: client.Configuration;
  /** The client's private key, for hand-made client assertions. */
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
}

/** Registers a relying party (private_key_jwt) and discovers the provider as openid-client. */
export async function registerRp(service: Service, clientId: string, scopes: string[], acrValues: string[], extra: Record<string, unknown> = {}): Promise<Rp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  await new ClientRegistry(service.app.context.db).register({
    client_id: clientId,
    name: NAMES,
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: ['https://rp.example.uz/bye'],
    jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
    scopes,
    acr_values: acrValues,
    contacts: ['it@rp.example.uz'],
    ...extra,
  });
  const config = await client.discovery(new URL(service.baseUrl), clientId, undefined, client.PrivateKeyJwt(privateKey), { execute: [client.allowInsecureRequests] });
  return { clientId, config, privateKey };
}

/** A private_key_jwt client assertion for an endpoint, made by hand (for requests openid-client would not send). */
export async function clientAssertion(rp: Rp, audience: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(rp.clientId)
    .setSubject(rp.clientId)
    .setAudience(audience)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(rp.privateKey);
}

export interface Citizen extends EnrolledCitizen {
  readonly device: DeviceClient;
}

/**
 * A citizen enrolled in person whose phone has the app activated: a native app whose keys the
 * test key store attests as hardware-backed, so its sign-ins are `high`.
 */
export async function citizenWithApp(service: Service): Promise<Citizen> {
  const enrolled = await enrollCitizen(service.app.context.db, service.baseUrl);
  const device = await DeviceClient.activate(service.baseUrl, await enrolled.activationCode(), { keyAttestation: await hardwareKeyStore() });
  return { ...enrolled, device };
}

/** A PAR + PKCE authorization URL and the verifier that redeems its code. */
export async function authorization(rp: Rp, params: Record<string, string> = {}): Promise<{ url: URL; verifier: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const url = await client.buildAuthorizationUrlWithPAR(rp.config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...params,
  });
  return { url, verifier };
}

/** Opens an authorization in the browser: the sign-in page it lands on (or the redirect that left the service). */
export async function open(service: Service, browser: Browser, url: URL): Promise<Response> {
  return browser.follow(await browser.get(url), service.baseUrl);
}

/** On the entry page: types the phone number and starts (app by default); returns the confirmation page. */
export async function startOnPage(service: Service, browser: Browser, entry: Response, hint: string, method = 'app', lang = 'en'): Promise<{ path: string; page: Response }> {
  expect(entry.status, await entry.clone().text()).toBe(200);
  const path = new URL(entry.url).pathname;
  expect(path).toMatch(/^\/signin\/[A-Za-z0-9_-]+$/);
  const page = await browser.follow(await browser.post(new URL(`${path}/start?lang=${lang}`, service.baseUrl), { hint, method }), service.baseUrl);
  return { path, page };
}

/** The verification code a confirmation page shows. */
export function codeOn(html: string): string {
  const shown = /<p class="code"[^>]*>([^<]+)<\/p>/.exec(html)?.[1]?.trim();
  expect(shown, html).toMatch(/^\d{4}$/);
  return shown!;
}

/** The citizen picks the page's code on the phone and confirms. */
export async function confirmOnPhone(citizen: Citizen, shown: string): Promise<void> {
  const request = await citizen.device.pending();
  expect(request?.verificationCodeChoices).toContain(shown);
  await citizen.device.confirm(request!, shown);
}

/** After the phone answered: the complete step, consent when asked, and the redirect to the relying party. */
export async function complete(service: Service, browser: Browser, path: string, consent: 'allow' | 'deny' = 'allow'): Promise<{ redirect: URL; consentPage: string | undefined }> {
  let page = await browser.follow(await browser.get(new URL(`${path}/complete?lang=en`, service.baseUrl)), service.baseUrl);
  let consentPage: string | undefined;
  if (page.status === 200) {
    consentPage = await page.text();
    expect(consentPage).toContain('name="decision"');
    page = await browser.follow(await browser.post(new URL(`${new URL(page.url).pathname}/consent`, service.baseUrl), { decision: consent }), service.baseUrl);
  }
  expect(page.status).toBe(303);
  return { redirect: new URL(page.headers.get('location')!), consentPage };
}

/** A whole sign-in with the app: authorization, phone number, code confirmed on the phone, consent. */
export async function signInWithApp(
  service: Service,
  rp: Rp,
  citizen: Citizen,
  options: { browser?: Browser; params?: Record<string, string> } = {},
): Promise<{ tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers; consentPage: string | undefined; browser: Browser }> {
  const browser = options.browser ?? new Browser();
  const { url, verifier } = await authorization(rp, options.params);
  const { path, page } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
  await confirmOnPhone(citizen, codeOn(await page.text()));
  const { redirect, consentPage } = await complete(service, browser, path);
  const tokens = await client.authorizationCodeGrant(rp.config, redirect, { pkceCodeVerifier: verifier });
  return { tokens, consentPage, browser };
}

/** The development inbox's newest SMS code for a phone, once it holds more than `after` of them. */
export async function smsCodeFor(service: Service, phone: string, after = 0): Promise<string> {
  let code = '';
  await expect
    .poll(
      async () => {
        const inbox = (await (await fetch(`${service.baseUrl}/api/v1/dev/messages?recipient=${encodeURIComponent(phone)}`)).json()) as {
          items: Array<{ kind: string; text: string }>;
        };
        const found = inbox.items.filter((m) => m.kind === 'auth.sms_otp');
        // Newest first.
        code = found.length > after ? (/#(\d{6})$/.exec(found[0]!.text)?.[1] ?? '') : '';
        return code;
      },
      { timeout: 15_000 },
    )
    .toMatch(/^\d{6}$/);
  return code;
}

export { Browser, REDIRECT_URI };
