import * as client from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { expect } from 'vitest';
import type { OidcTestApp } from './support.ts';

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

/**
 * Drives the sign-in pages as a citizen would: enter the phone number, the phone approves (the
 * test authenticator's answer), consent if asked. Returns the redirect to the relying party.
 */
export async function signIn(
  t: OidcTestApp,
  browser: Browser,
  authorizationUrl: URL,
  answer: { acr?: string; amr?: string[]; consent?: 'allow' | 'deny' } = {},
): Promise<URL> {
  let page = await browser.follow(await browser.get(authorizationUrl), t.baseUrl);
  expect(page.status, await page.clone().text()).toBe(200);
  const signinUrl = new URL(page.url);
  expect(signinUrl.pathname).toMatch(/^\/signin\//);
  const entry = await page.text();
  expect(entry).toContain('name="hint"');
  const started = await browser.post(new URL(`${signinUrl.pathname}/start`, t.baseUrl), { hint: '+998 90 123 45 67' });
  expect(started.status).toBe(303);
  const confirm = await browser.follow(started, t.baseUrl);
  const confirmHtml = await confirm.text();
  expect(confirmHtml).toContain('4821');
  t.authenticator.answerLatest({
    status: 'approved',
    citizenId: 'cit_demo_0001',
    acr: answer.acr ?? 'urn:tasdiq:acr:substantial',
    amr: answer.amr ?? ['hwk', 'pin'],
    authTime: Date.now(),
  });
  page = await browser.follow(await browser.get(new URL(`${signinUrl.pathname}/complete`, t.baseUrl)), t.baseUrl);
  if (page.status === 200) {
    const consent = await page.text();
    expect(consent).toContain('name="decision"');
    page = await browser.follow(await browser.post(new URL(`${new URL(page.url).pathname}/consent`, t.baseUrl), { decision: answer.consent ?? 'allow' }), t.baseUrl);
  }
  expect(page.status).toBe(303);
  return new URL(page.headers.get('location')!);
}

/**
 * A PAR + PKCE (S256) authorization driven through the sign-in pages: returns the redirect back
 * to the relying party and the PKCE verifier that redeems its code.
 */
export async function authorizeWithPar(
  t: OidcTestApp,
  config: client.Configuration,
  options: { browser?: Browser; params?: Record<string, string>; answer?: Parameters<typeof signIn>[3] } = {},
): Promise<{ verifier: string; callback: URL }> {
  const verifier = client.randomPKCECodeVerifier();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...options.params,
  });
  return { verifier, callback: await signIn(t, options.browser ?? new Browser(), url, options.answer) };
}

/** The whole code flow: authorize with PAR and PKCE, sign in, redeem the code. */
export async function codeFlowTokens(
  t: OidcTestApp,
  config: client.Configuration,
  options: Parameters<typeof authorizeWithPar>[2] = {},
): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const { verifier, callback } = await authorizeWithPar(t, config, options);
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
}
