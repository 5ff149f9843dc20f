import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { expect } from 'vitest';
import type { Citizen, OidcTestApp } from './support.ts';

export const REDIRECT_URI = 'https://rp.example.uz/cb';

/** A relying party: its registration, its private key, and an openid-client configuration. */
export interface TestRp {
  readonly clientId: string;
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  config(options?: { aud?: string }): Promise<client.Configuration>;
}

export async function registerRp(t: OidcTestApp, overrides: Record<string, unknown> = {}): Promise<TestRp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const clientId = String(overrides.client_id ?? `rp-${Math.random().toString(36).slice(2, 10)}`);
  await t.oidc.registry.register({
    client_id: clientId,
    name: { 'uz-Latn': 'Sinov xizmati', 'uz-Cyrl': 'Синов хизмати', ru: 'Тестовый сервис', en: 'Test service' },
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: ['https://rp.example.uz/bye'],
    jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' }] },
    scopes: ['openid', 'profile', 'pinfl', 'phone', 'offline_access'],
    acr_values: ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'],
    contacts: ['dev@rp.example.uz'],
    ...overrides,
  });
  return {
    clientId,
    privateKey,
    config: (options = {}) =>
      client.discovery(
        new URL(t.baseUrl),
        clientId,
        { id_token_signed_response_alg: 'ES256' },
        client.PrivateKeyJwt(privateKey, options.aud ? { [client.modifyAssertion]: (_h: unknown, payload: Record<string, unknown>) => void (payload.aud = options.aud) } : {}),
        { execute: [client.allowInsecureRequests] },
      ),
  };
}

/** A browser's cookie jar, enough for the provider's cookies (names are unique across paths here). */
export class Browser {
  readonly #cookies = new Map<string, string>();

  async get(url: string | URL): Promise<Response> {
    return this.#send(new Request(url, { redirect: 'manual' }));
  }

  async post(url: string | URL, form: Record<string, string>): Promise<Response> {
    return this.#send(
      new Request(url, { method: 'POST', redirect: 'manual', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    );
  }

  async #send(request: Request): Promise<Response> {
    if (this.#cookies.size > 0) request.headers.set('cookie', [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const [name = '', ...value] = pair.split('=');
      const expired = attributes.some((a) => /expires=thu, 01 jan 1970/i.test(a.trim()) || /max-age=0/i.test(a.trim()));
      if (expired) this.#cookies.delete(name.trim());
      else this.#cookies.set(name.trim(), value.join('='));
    }
    return response;
  }

  /** Follows redirects on the service until one leaves it (to the relying party) or a page is shown. */
  async follow(response: Response, base: string): Promise<Response> {
    let current = response;
    for (let i = 0; i < 10 && current.status >= 300 && current.status < 400; i++) {
      const location = new URL(current.headers.get('location')!, base);
      if (location.origin !== new URL(base).origin) return current;
      current = await this.get(location);
    }
    return current;
  }
}

/** The verification code a confirmation page shows. */
export function verificationCodeOn(html: string): string {
  const shown = /<p class="code"[^>]*>([^<]+)<\/p>/.exec(html)?.[1]?.trim();
  expect(shown, html).toMatch(/^\d{4}$/);
  return shown!;
}

/** +998901234567 as people write it: +998 90 123 45 67. */
export function spaced(phone: string): string {
  return phone.replace(/^(\+998)(\d{2})(\d{3})(\d{2})(\d{2})$/, '$1 $2 $3 $4 $5');
}

export interface SignInOptions {
  /** What the citizen types: their phone number as people write it (default) or their PINFL. */
  readonly hint?: 'phone' | 'pinfl';
  readonly consent?: 'allow' | 'deny';
}

/**
 * From an approved attempt to the service: the complete step, the consent page the first time
 * (answered with `consent`), then the redirect to the relying party.
 */
export async function finishSignIn(t: OidcTestApp, browser: Browser, signinPath: string, consent: 'allow' | 'deny' = 'allow'): Promise<URL> {
  let page = await browser.follow(await browser.get(new URL(`${signinPath}/complete`, t.baseUrl)), t.baseUrl);
  if (page.status === 200) {
    const html = await page.text();
    expect(html).toContain('name="decision"');
    page = await browser.follow(await browser.post(new URL(`${new URL(page.url).pathname}/consent`, t.baseUrl), { decision: consent }), t.baseUrl);
  }
  expect(page.status).toBe(303);
  return new URL(page.headers.get('location')!);
}

/**
 * Drives the sign-in pages as a citizen would: types the phone number (or PINFL), reads the
 * verification code on the page, and on the phone (the citizen's DeviceClient) fetches the
 * pending request, picks that code among the choices and confirms; consents if asked. Returns
 * the redirect to the relying party.
 */
export async function signInWithPhone(t: OidcTestApp, browser: Browser, authorizationUrl: URL, citizen: Citizen, options: SignInOptions = {}): Promise<URL> {
  const page = await browser.follow(await browser.get(authorizationUrl), t.baseUrl);
  expect(page.status, await page.clone().text()).toBe(200);
  const signinUrl = new URL(page.url);
  expect(signinUrl.pathname).toMatch(/^\/signin\//);
  const entry = await page.text();
  expect(entry).toContain('name="hint"');
  const hint = options.hint === 'pinfl' ? citizen.pinfl : spaced(citizen.phone);
  const started = await browser.post(new URL(`${signinUrl.pathname}/start`, t.baseUrl), { hint });
  expect(started.status, await started.clone().text()).toBe(303);
  const confirm = await browser.follow(started, t.baseUrl);
  const shown = verificationCodeOn(await confirm.text());
  const request = await citizen.device.pending();
  expect(request).toMatchObject({ kind: 'auth', interaction: 'verification_code_choice' });
  expect(request!.verificationCodeChoices).toContain(shown);
  await citizen.device.confirm(request!, shown);
  return finishSignIn(t, browser, signinUrl.pathname, options.consent);
}

/**
 * A PAR + PKCE (S256) authorization driven through the sign-in pages by `citizen`: returns the
 * redirect back to the relying party and the PKCE verifier that redeems its code.
 */
export async function authorizeWithPar(
  t: OidcTestApp,
  config: client.Configuration,
  citizen: Citizen,
  options: { browser?: Browser; params?: Record<string, string>; dpop?: client.DPoPHandle; signIn?: SignInOptions } = {},
): Promise<{ verifier: string; callback: URL }> {
  const verifier = client.randomPKCECodeVerifier();
  const url = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...options.params,
    },
    options.dpop ? { DPoP: options.dpop } : undefined,
  );
  return { verifier, callback: await signInWithPhone(t, options.browser ?? new Browser(), url, citizen, options.signIn) };
}

/** The whole code flow for `citizen`: authorize with PAR and PKCE, sign in on the phone, redeem the code. */
export async function codeFlowTokens(
  t: OidcTestApp,
  config: client.Configuration,
  citizen: Citizen,
  options: Parameters<typeof authorizeWithPar>[3] = {},
): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const { verifier, callback } = await authorizeWithPar(t, config, citizen, options);
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }, undefined, options.dpop ? { DPoP: options.dpop } : undefined);
}
