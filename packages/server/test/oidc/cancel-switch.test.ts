import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { authorization, Browser, citizenWithApp, codeOn, complete, confirmOnPhone, open, registerRp, smsCodeFor, startOnPage, startService, type Citizen, type Service } from './journey.ts';

const LOW = 'urn:tasdiq:acr:low';
const SUBSTANTIAL = 'urn:tasdiq:acr:substantial';
const HIGH = 'urn:tasdiq:acr:high';

/**
 * Leaving a sign-in or choosing another way withdraws the phone's pending request at once, so
 * the citizen is never locked out by their own earlier attempt; the app's confirmation page
 * offers the QR and, where the service accepts the low level, an SMS code.
 */
describe.each(testDialects())('cancelling and switching the way to confirm, on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    service = await startService(dialect);
  });
  afterAll(async () => service.close());

  async function sessionsOf(citizen: Citizen) {
    return service.app.context.db
      .selectFrom('auth_sessions')
      .select(['id', 'mode', 'state', 'result'])
      .where('citizen_id', '=', citizen.citizenId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  it('cancel withdraws the phone request (CANCELLED) and a new sign-in can start at once', async () => {
    const rp = await registerRp(service, 'cancel-app', ['openid'], [SUBSTANTIAL, HIGH]);
    const citizen = await citizenWithApp(service);
    const browser = new Browser();
    const { url } = await authorization(rp);
    const { path, page } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
    expect(page.status).toBe(200);
    expect(await citizen.device.pending()).not.toBeNull();

    const aborted = await browser.post(new URL(`${path}/abort`, service.baseUrl), {});
    const back = await browser.follow(aborted, service.baseUrl);
    expect(new URL(back.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    expect((await sessionsOf(citizen)).map((s) => [s.state, s.result])).toEqual([['complete', 'CANCELLED']]);
    expect(await citizen.device.pending()).toBeNull();

    // At once, in another tab: the confirmation page, not "too many attempts".
    const second = new Browser();
    const again = await authorization(rp);
    const { path: path2, page: page2 } = await startOnPage(service, second, await open(service, second, again.url), citizen.phone);
    expect(page2.status).toBe(200);
    const html = await page2.text();
    expect(html).not.toContain('Too many attempts');
    await confirmOnPhone(citizen, codeOn(html));
    const { redirect } = await complete(service, second, path2);
    expect((await client.authorizationCodeGrant(rp.config, redirect, { pkceCodeVerifier: again.verifier })).claims()?.acr).toBe(HIGH);
  });

  it('starting again from the same page withdraws the earlier attempt; a sign-in pending elsewhere is named as such', async () => {
    const rp = await registerRp(service, 'restart-app', ['openid'], [SUBSTANTIAL, HIGH]);
    const citizen = await citizenWithApp(service);
    const browser = new Browser();
    const { url } = await authorization(rp);
    const { path } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
    const restarted = await browser.follow(await browser.post(new URL(`${path}/start?lang=en`, service.baseUrl), { hint: citizen.phone }), service.baseUrl);
    expect(restarted.status).toBe(200);
    const code = codeOn(await restarted.text());
    expect((await sessionsOf(citizen)).map((s) => s.result)).toEqual(['CANCELLED', null]);

    // Another browser while this one waits: the page says a sign-in is waiting on the phone.
    const other = new Browser();
    const elsewhere = await startOnPage(service, other, await open(service, other, (await authorization(rp)).url), citizen.phone);
    expect(elsewhere.page.status).toBe(429);
    expect(await elsewhere.page.text()).toContain('Another sign-in is waiting on your phone');

    await confirmOnPhone(citizen, code);
    await complete(service, browser, path);
  });

  it('the app confirmation page switches to an SMS code where low is acceptable: the app request is withdrawn, the code signs in at low', async () => {
    const rp = await registerRp(service, 'switch-sms', ['openid'], [LOW, SUBSTANTIAL]);
    const citizen = await citizenWithApp(service);
    const browser = new Browser();
    const { url, verifier } = await authorization(rp);
    const { path, page } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
    const confirmHtml = await page.text();
    expect(confirmHtml).toContain('No app? Get a code by SMS');
    expect(confirmHtml).toMatch(/<input type="hidden" name="method" value="sms_otp">/);
    expect(confirmHtml).toMatch(/<input type="hidden" name="method" value="device_link">/);
    expect(confirmHtml).toContain('Scan a QR code instead');

    const sms = await browser.follow(await browser.post(new URL(`${path}/switch?lang=en`, service.baseUrl), { method: 'sms_otp' }), service.baseUrl);
    expect(sms.status).toBe(200);
    expect(await sms.text()).toContain('autocomplete="one-time-code"');
    expect((await sessionsOf(citizen)).map((s) => [s.mode, s.result])).toEqual([
      ['app', 'CANCELLED'],
      ['sms_otp', null],
    ]);
    expect(await citizen.device.pending()).toBeNull();

    const code = await smsCodeFor(service, citizen.phone);
    expect((await browser.post(new URL(`${path}/otp?lang=en`, service.baseUrl), { code })).status).toBe(303);
    const { redirect } = await complete(service, browser, path);
    expect((await client.authorizationCodeGrant(rp.config, redirect, { pkceCodeVerifier: verifier })).claims()).toMatchObject({ acr: LOW, amr: ['sms', 'otp'] });
  });

  it('switches to the QR where only the app counts; no SMS offered there, and a forged SMS switch changes nothing', async () => {
    const rp = await registerRp(service, 'switch-qr', ['openid'], [SUBSTANTIAL, HIGH]);
    const citizen = await citizenWithApp(service);
    const browser = new Browser();
    const { url, verifier } = await authorization(rp);
    const { path, page } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
    const confirmHtml = await page.text();
    expect(confirmHtml).not.toContain('value="sms_otp"');
    expect(confirmHtml).toContain('Scan a QR code instead');

    const forged = await browser.post(new URL(`${path}/switch?lang=en`, service.baseUrl), { method: 'sms_otp' });
    expect(forged.status).toBe(303);
    expect((await sessionsOf(citizen)).map((s) => [s.mode, s.result])).toEqual([['app', null]]);

    const qr = await browser.follow(await browser.post(new URL(`${path}/switch?lang=en`, service.baseUrl), { method: 'device_link' }), service.baseUrl);
    const qrHtml = await qr.text();
    expect(qrHtml).toContain('Scan the QR code');
    expect(qrHtml).toContain('aria-label="QR code for the Tasdiq app"');
    expect((await sessionsOf(citizen)).map((s) => [s.mode, s.result])).toEqual([['app', 'CANCELLED']]);
    const current = (await (await browser.get(new URL(`${path}/qr`, service.baseUrl))).json()) as { qr: string };
    const request = await citizen.device.link(current.qr);
    await citizen.device.confirm(request);
    const { redirect } = await complete(service, browser, path);
    expect((await client.authorizationCodeGrant(rp.config, redirect, { pkceCodeVerifier: verifier })).claims()?.acr).toBe(HIGH);
  });
});
