import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { authorization, Browser, citizenWithApp, codeOn, complete, confirmOnPhone, open, registerRp, signInWithApp, startOnPage, startService, type Service } from './journey.ts';

const oauthError = (error: unknown) => (error as { error?: string }).error;

/**
 * The `claims` request parameter is a finer choice within the client's registered scopes, never
 * a way around them or around consent: the consent page lists what is asked claim by claim,
 * and the consent stored (and audited) is what the page listed.
 */
describe.each(testDialects())('claims parameter and consent, on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    service = await startService(dialect);
  });
  afterAll(async () => service.close());

  it('refuses claims of scopes the client is not registered for (a client with openid only asking for PINFL and the document)', async () => {
    const rp = await registerRp(service, 'openid-only', ['openid'], ['urn:tasdiq:acr:substantial']);
    const refused = await authorization(rp, { claims: JSON.stringify({ userinfo: { pinfl: null, document: null } }) }).catch((e: unknown) => e);
    expect(oauthError(refused)).toBe('invalid_request');
    expect((refused as { error_description?: string }).error_description).toMatch(/document, pinfl/);
    // The same by the front channel, without PAR: an error back at the client, no sign-in page.
    const { url } = await authorization(rp);
    const direct = new URL(url);
    direct.search = new URLSearchParams({
      client_id: rp.clientId,
      response_type: 'code',
      redirect_uri: 'https://rp.example.uz/cb',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      claims: JSON.stringify({ id_token: { birthdate: { essential: true } } }),
    }).toString();
    const answer = await fetch(direct, { redirect: 'manual' });
    expect(new URL(answer.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('lists the claims actually asked on the consent page, releases only those, stores and audits that consent, and asks no more the next time', async () => {
    const rp = await registerRp(service, 'post-claims', ['openid', 'profile', 'pinfl', 'birthdate', 'phone'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const citizen = await citizenWithApp(service);
    const claims = JSON.stringify({ userinfo: { given_name: null, 'family_name#uz-Cyrl': null, pinfl: { essential: true } } });
    const { tokens, consentPage } = await signInWithApp(service, rp, citizen, { params: { scope: 'openid', claims } });

    const items = [...consentPage!.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1]);
    expect(items).toEqual(['A stable identifier for this service', 'Surname (in Cyrillic)', 'Given name', 'PINFL (personal identification number)']);
    expect(consentPage).not.toContain('Date of birth');
    expect(consentPage).not.toContain('Phone number');

    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo).toEqual({ sub: tokens.claims()!.sub, given_name: 'Fuqaro', 'family_name#uz-Cyrl': 'Тест', pinfl: citizen.pinfl });

    const stored = await service.app.context.db.selectFrom('oidc_consents').select(['scopes', 'claims']).where('citizen_id', '=', citizen.citizenId).where('client_id', '=', rp.clientId).executeTakeFirstOrThrow();
    expect({ scopes: JSON.parse(stored.scopes) as unknown, claims: JSON.parse(stored.claims) as unknown }).toEqual({
      scopes: ['openid'],
      claims: ['family_name#uz-Cyrl', 'given_name', 'pinfl'],
    });
    const audit = await service.app.context.db
      .selectFrom('audit_events')
      .select(['actor_id', 'subject_citizen_id', 'details'])
      .where('action', '=', 'oidc.consent_given')
      .where('subject_citizen_id', '=', citizen.citizenId)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(citizen.citizenId);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ clientId: rp.clientId, scopes: ['openid'], claims: ['family_name#uz-Cyrl', 'given_name', 'pinfl'] });

    // The app lists the consent with its claims.
    const listed = await citizen.device.request<{ items: Array<{ clientId: string; scopes: string[]; claims?: string[] }> }>('GET', '/api/v1/device/consents');
    expect(listed.items).toEqual([expect.objectContaining({ clientId: rp.clientId, scopes: ['openid'], claims: ['family_name#uz-Cyrl', 'given_name', 'pinfl'] })]);

    // A new browser, the same claims: the stored consent covers them, no consent page.
    const again = await signInWithApp(service, rp, citizen, { browser: new Browser(), params: { scope: 'openid', claims } });
    expect(again.consentPage).toBeUndefined();

    // A scope beyond the consent (birthdate): asked about, and only that.
    const more = await signInWithApp(service, rp, citizen, { browser: new Browser(), params: { scope: 'openid birthdate', claims } });
    expect([...more.consentPage!.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1])).toEqual(['Date of birth']);
    expect((await client.fetchUserInfo(rp.config, more.tokens.access_token, more.tokens.claims()!.sub)).birthdate).toBe('1990-05-17');
    const actions = await service.app.context.db.selectFrom('audit_events').select('details').where('action', '=', 'oidc.consent_given').where('subject_citizen_id', '=', citizen.citizenId).execute();
    expect(actions.map((a) => JSON.parse(a.details) as { scopes: string[] }).map((d) => d.scopes)).toEqual([['openid'], ['birthdate']]);
  });

  it('denying consent records nothing', async () => {
    const rp = await registerRp(service, 'post-deny', ['openid', 'pinfl'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const citizen = await citizenWithApp(service);
    const browser = new Browser();
    const { url } = await authorization(rp, { scope: 'openid pinfl' });
    const { path, page } = await startOnPage(service, browser, await open(service, browser, url), citizen.phone);
    await confirmOnPhone(citizen, codeOn(await page.text()));
    const { redirect } = await complete(service, browser, path, 'deny');
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(await service.app.context.db.selectFrom('oidc_consents').selectAll().where('citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
    expect(await service.app.context.db.selectFrom('audit_events').selectAll().where('action', '=', 'oidc.consent_given').where('subject_citizen_id', '=', citizen.citizenId).execute()).toEqual([]);
  });
});
