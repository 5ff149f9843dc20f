import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { authorization, Browser, citizenWithApp, NAMES, open, registerRp, signInWithApp, startService, type Citizen, type Rp, type Service } from './journey.ts';

/**
 * The citizen is spoken to in one language from the page to the phone: the request's
 * ui_locales, else the browser's; a language picked on the page wins. Every HTML page the
 * provider shows (sign-in over, errors, logout) is in that language and cannot be framed.
 */
describe.each(testDialects())('languages and the provider pages, on %s', (dialect) => {
  let service: Service;
  let rp: Rp;
  beforeAll(async () => {
    service = await startService(dialect);
    rp = await registerRp(service, 'lang-post', ['openid'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'], { ciba_delivery_mode: 'poll', subject_type: 'public' });
  });
  afterAll(async () => service.close());

  /** Opens the authorization and starts with the app, as a browser sending `acceptLanguage` would, without picking a language. */
  async function startIn(citizen: Citizen, params: Record<string, string>, acceptLanguage?: string, lang?: string): Promise<{ entryHtml: string; service: string; locale: string }> {
    const { url } = await authorization(rp, params);
    const headers: Record<string, string> = acceptLanguage ? { 'accept-language': acceptLanguage } : {};
    let response = await fetch(url, { redirect: 'manual', headers });
    const cookies: string[] = [];
    while (response.status >= 300 && response.status < 400) {
      cookies.push(...response.headers.getSetCookie().map((c) => c.split(';')[0]!));
      const next = new URL(response.headers.get('location')!, service.baseUrl);
      if (lang) next.searchParams.set('lang', lang);
      response = await fetch(next, { redirect: 'manual', headers: { ...headers, cookie: cookies.join('; ') } });
    }
    cookies.push(...response.headers.getSetCookie().map((c) => c.split(';')[0]!));
    const entryHtml = await response.text();
    const path = new URL(response.url).pathname;
    const started = await fetch(new URL(`${path}/start`, service.baseUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, cookie: cookies.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ hint: citizen.phone }),
    });
    expect(started.status).toBe(303);
    const request = (await citizen.device.pending())!;
    const outbox = await service.app.context.db.selectFrom('notify_outbox').select('locale').where('correlation_id', '=', request.sessionId).executeTakeFirstOrThrow();
    // Leaves the page (Cancel): the phone's request is withdrawn, no refusal counted against the citizen.
    const aborted = await fetch(new URL(`${path}/abort`, service.baseUrl), { method: 'POST', redirect: 'manual', headers: { cookie: cookies.join('; ') } });
    expect(aborted.status).toBe(303);
    return { entryHtml, service: request.service, locale: outbox.locale };
  }

  it('ui_locales speaks Russian on the page, on the phone and in the push; a picked language wins; without either the browser decides', async () => {
    const citizen = await citizenWithApp(service);
    const ru = await startIn(citizen, { ui_locales: 'ru-RU en' }, 'en');
    expect(ru.entryHtml).toContain('<html lang="ru">');
    expect(ru).toMatchObject({ service: NAMES.ru, locale: 'ru' });

    const picked = await startIn(citizen, { ui_locales: 'ru' }, 'en', 'uz-Cyrl');
    expect(picked.entryHtml).toContain('<html lang="uz-Cyrl">');
    expect(picked).toMatchObject({ service: NAMES['uz-Cyrl'], locale: 'uz-Cyrl' });

    const browser = await startIn(citizen, {}, 'en-GB,en;q=0.8');
    expect(browser.entryHtml).toContain('<html lang="en">');
    expect(browser).toMatchObject({ service: NAMES.en, locale: 'en' });

    const unknown = await startIn(citizen, { ui_locales: 'fr de' }, 'uz');
    expect(unknown).toMatchObject({ service: NAMES['uz-Latn'], locale: 'uz-Latn' });
  });

  it('CIBA: ui_locales names the service on the phone in that language', async () => {
    const citizen = await citizenWithApp(service);
    const started = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid', login_hint: citizen.phone, binding_message: 'Заявка 5', ui_locales: 'ru' });
    const request = await citizen.device.pending();
    expect(request?.service).toBe(NAMES.ru);
    await citizen.device.confirm(request!);
    await client.pollBackchannelAuthenticationGrant(rp.config, { ...started, interval: 0.05 });
  });

  it('a sign-in that is over is an HTML page in the citizen language with a way to start again, never raw JSON for a browser', async () => {
    const html = { accept: 'text/html,application/xhtml+xml', 'accept-language': 'uz-Cyrl' };
    const unknown = await fetch(`${service.baseUrl}/signin/AAAAAAAAAAAAAAAAAAAAA`, { headers: html });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toMatch(/^text\/html/);
    expect(unknown.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const body = await unknown.text();
    expect(body).toContain('<html lang="uz-Cyrl">');
    expect(body).toContain('Бу кириш топилмади');
    expect(body).not.toContain('Қайтадан бошлаш');

    // The sign-in still exists but this browser has no cookie for it (another browser, cookies
    // cleared): start again at the service's site.
    const { url } = await authorization(rp);
    const entry = await open(service, new Browser(), url);
    const elsewhere = await fetch(entry.url, { headers: { accept: 'text/html', 'accept-language': 'ru' } });
    expect(elsewhere.status).toBe(400);
    const page = await elsewhere.text();
    expect(page).toContain('Этот вход не найден или истёк');
    expect(page).toContain('<a class="button" href="https://rp.example.uz/">Начать заново</a>');

    // A script asking for JSON gets the problem document.
    const json = await fetch(`${service.baseUrl}/signin/AAAAAAAAAAAAAAAAAAAAA/status`, { headers: { accept: 'application/json' } });
    expect(((await json.json()) as { code: string }).code).toBe('signin_not_found');
  });

  it('the provider error page and the logout pages are translated and cannot be framed', async () => {
    const error = await fetch(`${service.baseUrl}/oidc/authorize?client_id=nobody-here&response_type=code&scope=openid`, { headers: { 'accept-language': 'ru' } });
    expect(error.status).toBe(400);
    expect(error.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(error.headers.get('x-frame-options')).toBe('DENY');
    const errorHtml = await error.text();
    expect(errorHtml).toContain('Сервис отправил неверный запрос входа');
    expect(errorHtml).toContain('<code>invalid_client</code>');

    const citizen = await citizenWithApp(service);
    const { tokens, browser } = await signInWithApp(service, rp, citizen);
    const logoutUrl = client.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://rp.example.uz/bye' });
    const confirm = await browser.follow(await browser.get(logoutUrl), service.baseUrl);
    expect(confirm.status).toBe(200);
    expect(confirm.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(confirm.headers.get('x-frame-options')).toBe('DENY');
    const confirmHtml = await confirm.text();
    expect(confirmHtml).toContain('name="logout"');
    expect(confirmHtml).toContain('Tizimdan chiqasizmi?');

    // Without a session the provider posts its own form at once: its inline script is allowed by hash only.
    const bare = await fetch(logoutUrl, { headers: { 'accept-language': 'ru' }, redirect: 'manual' });
    const policy = bare.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  });
});
