import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import {
  authorization,
  Browser,
  citizenWithApp,
  codeOn,
  complete,
  confirmOnPhone,
  open,
  REDIRECT_URI,
  registerRp,
  signInWithApp,
  smsCodeFor,
  startOnPage,
  startService,
  type Citizen,
  type Service,
} from './journey.ts';

const LOW = 'urn:tasdiq:acr:low';
const SUBSTANTIAL = 'urn:tasdiq:acr:substantial';
const HIGH = 'urn:tasdiq:acr:high';
const essential = (values: string[]) => JSON.stringify({ id_token: { acr: { essential: true, values } } });

/**
 * Single sign-on never serves a request at a lower assurance level than it accepts: an
 * existing session below the weakest acceptable level (from acr_values, an essential acr claim
 * or the client's registered levels) means signing in again, or login_required for prompt=none.
 */
describe.each(testDialects())('assurance with an existing session (single sign-on), on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    service = await startService(dialect);
  });
  afterAll(async () => service.close());

  /** The device's enrollment decides the app's level (its keys are hardware-backed): in person gives high, self-service substantial. */
  async function deviceAssurance(citizen: Citizen, assurance: 'in_person' | 'self_service'): Promise<void> {
    await service.app.context.db.updateTable('devices').set({ assurance }).where('id', '=', citizen.device.deviceId).execute();
  }

  /** Where an authorization in this browser ends: the sign-in page, or back at the relying party. */
  async function outcome(browser: Browser, url: URL): Promise<{ signinPage: boolean; callback: URL | undefined; response: Response }> {
    const response = await open(service, browser, url);
    if (response.status === 200 && new URL(response.url).pathname.startsWith('/signin/')) return { signinPage: true, callback: undefined, response };
    expect(response.status).toBe(303);
    const callback = new URL(response.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    return { signinPage: false, callback, response };
  }

  it('a session at substantial is not reused for high (acr_values or an essential acr claim); prompt=none gets login_required; a stronger session serves a weaker request', async () => {
    const rp = await registerRp(service, 'soliq-sso', ['openid', 'pinfl'], [SUBSTANTIAL, HIGH]);
    const citizen = await citizenWithApp(service);
    await deviceAssurance(citizen, 'self_service');
    const first = await signInWithApp(service, rp, citizen, { params: { acr_values: SUBSTANTIAL } });
    expect(first.tokens.claims()?.acr).toBe(SUBSTANTIAL);
    const browser = first.browser;

    // The same level again: single sign-on, a code with no interaction, the session's acr.
    const again = await authorization(rp, { acr_values: SUBSTANTIAL });
    const sso = await outcome(browser, again.url);
    expect(sso.signinPage).toBe(false);
    const ssoTokens = await client.authorizationCodeGrant(rp.config, sso.callback!, { pkceCodeVerifier: again.verifier });
    expect(ssoTokens.claims()?.acr).toBe(SUBSTANTIAL);

    // High by acr_values, and by an essential acr claim: the citizen is asked to sign in again.
    expect((await outcome(browser, (await authorization(rp, { acr_values: HIGH })).url)).signinPage).toBe(true);
    expect((await outcome(browser, (await authorization(rp, { claims: essential([HIGH]) })).url)).signinPage).toBe(true);

    // prompt=none cannot show a page: login_required, and no code.
    for (const params of [{ acr_values: HIGH, prompt: 'none' }, { claims: essential([HIGH]), prompt: 'none' }]) {
      const none = await outcome(browser, (await authorization(rp, params)).url);
      expect(none.callback?.searchParams.get('error')).toBe('login_required');
      expect(none.callback?.searchParams.get('code')).toBeNull();
    }

    // Signing in again at high (the device re-enrolled in person) serves the high request.
    await deviceAssurance(citizen, 'in_person');
    const high = await authorization(rp, { acr_values: HIGH });
    const entry = await open(service, browser, high.url);
    const { path, page } = await startOnPage(service, browser, entry, citizen.phone);
    await confirmOnPhone(citizen, codeOn(await page.text()));
    const { redirect } = await complete(service, browser, path);
    expect((await client.authorizationCodeGrant(rp.config, redirect, { pkceCodeVerifier: high.verifier })).claims()?.acr).toBe(HIGH);

    // A session at high serves a request whose essential acr is substantial (ranked, not an
    // exact match that would ask again forever).
    const weaker = await authorization(rp, { claims: essential([SUBSTANTIAL]) });
    const served = await outcome(browser, weaker.url);
    expect(served.signinPage).toBe(false);
    expect((await client.authorizationCodeGrant(rp.config, served.callback!, { pkceCodeVerifier: weaker.verifier })).claims()?.acr).toBe(HIGH);
  });

  it('a client registered for high only does not get a low session made by SMS at another client', async () => {
    const smsRp = await registerRp(service, 'pochta-any', ['openid'], [LOW, SUBSTANTIAL]);
    const highRp = await registerRp(service, 'notary-high', ['openid'], [HIGH]);
    const citizen = await citizenWithApp(service);
    const browser = new Browser();

    const sms = await authorization(smsRp, { acr_values: LOW });
    const { path } = await startOnPage(service, browser, await open(service, browser, sms.url), citizen.phone, 'sms_otp');
    const code = await smsCodeFor(service, citizen.phone);
    expect((await browser.post(new URL(`${path}/otp?lang=en`, service.baseUrl), { code })).status).toBe(303);
    const { redirect } = await complete(service, browser, path);
    expect((await client.authorizationCodeGrant(smsRp.config, redirect, { pkceCodeVerifier: sms.verifier })).claims()?.acr).toBe(LOW);

    // The high-only client, same browser, no acr_values: its registered level applies.
    expect((await outcome(browser, (await authorization(highRp)).url)).signinPage).toBe(true);
    const none = await outcome(browser, (await authorization(highRp, { prompt: 'none' })).url);
    expect(none.callback?.searchParams.get('error')).toBe('login_required');

    // Asking for a level the client is not registered for is refused, session or not.
    const refused = await outcome(browser, (await authorization(highRp, { acr_values: LOW })).url);
    expect(refused.callback?.searchParams.get('error')).toBe('invalid_request');
  });
});
