import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { Browser, citizenWithApp, registerRp, signInWithApp, startService, type Service } from './journey.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Grants do not rot: a citizen has one grant per service however often they sign in, and it
 * lives as long as what it serves (the session's eight hours; thirty days with refresh tokens),
 * not a fixed month per sign-in.
 */
describe.each(testDialects())('grants: one per citizen and service, as long-lived as what they serve, on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    service = await startService(dialect);
  });
  afterAll(async () => service.close());

  async function durable(model: string, accountId?: string) {
    let query = service.app.context.db.selectFrom('oidc_durable').select(['id', 'expires_at', 'account_id', 'client_id']).where('model', '=', model);
    if (accountId) query = query.where('account_id', '=', accountId);
    return query.execute();
  }

  it('three sign-ins in three browsers leave three sessions and one grant that ends with the session', async () => {
    const rp = await registerRp(service, 'grants-session', ['openid', 'pinfl'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const citizen = await citizenWithApp(service);
    const sessionsBefore = (await durable('Session')).length;
    for (let i = 0; i < 3; i++) {
      const { tokens } = await signInWithApp(service, rp, citizen, { browser: new Browser(), params: { scope: 'openid pinfl' } });
      expect(tokens.refresh_token).toBeUndefined();
    }
    expect((await durable('Session')).length - sessionsBefore).toBe(3);
    const grants = await durable('Grant', citizen.citizenId);
    expect(grants).toHaveLength(1);
    expect(grants[0]!.client_id).toBe(rp.clientId);
    const left = grants[0]!.expires_at - Date.now();
    expect(left).toBeGreaterThan(8 * HOUR - 5 * 60_000);
    expect(left).toBeLessThanOrEqual(8 * HOUR);
    expect(await durable('RefreshToken', undefined)).toEqual([]);
  });

  it('a grant serving refresh tokens lives thirty days, and the refresh token never outlives it', async () => {
    const rp = await registerRp(service, 'grants-offline', ['openid', 'offline_access'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high']);
    const citizen = await citizenWithApp(service);
    const { tokens } = await signInWithApp(service, rp, citizen, { params: { scope: 'openid offline_access', prompt: 'consent' } });
    expect(tokens.refresh_token).toBeTruthy();
    const [grant] = await durable('Grant', citizen.citizenId);
    expect(grant!.expires_at - Date.now()).toBeGreaterThan(30 * DAY - 5 * 60_000);
    const refreshTokens = await service.app.context.db.selectFrom('oidc_durable').select(['expires_at', 'grant_id']).where('model', '=', 'RefreshToken').where('grant_id', '=', grant!.id).execute();
    expect(refreshTokens).toHaveLength(1);
    // Lifetimes are whole seconds; the rows' millisecond stamps differ by the moment each was written.
    expect(refreshTokens[0]!.expires_at).toBeLessThanOrEqual(grant!.expires_at + 1000);

    // A rotation keeps to the same grant and its end.
    const refreshed = await client.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
    const rotated = await service.app.context.db.selectFrom('oidc_durable').select(['expires_at']).where('model', '=', 'RefreshToken').where('grant_id', '=', grant!.id).execute();
    for (const row of rotated) expect(row.expires_at).toBeLessThanOrEqual(grant!.expires_at + 1000);
    expect(await durable('Grant', citizen.citizenId)).toHaveLength(1);

    // Signing in again without offline_access reuses that grant: still one, still thirty days.
    await signInWithApp(service, rp, citizen, { browser: new Browser() });
    const grants = await durable('Grant', citizen.citizenId);
    expect(grants.map((g) => g.id)).toEqual([grant!.id]);
    expect(grants[0]!.expires_at).toBeGreaterThanOrEqual(grant!.expires_at);
  });

  it('a CIBA sign-in reuses the grant too', async () => {
    const rp = await registerRp(service, 'grants-ciba', ['openid', 'pinfl'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'], { ciba_delivery_mode: 'poll', subject_type: 'public' });
    const citizen = await citizenWithApp(service);
    await signInWithApp(service, rp, citizen, { params: { scope: 'openid pinfl' } });
    for (let i = 0; i < 2; i++) {
      const started = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid pinfl', login_hint: citizen.phone, binding_message: `Ariza ${i}` });
      const request = await citizen.device.pending();
      await citizen.device.confirm(request!);
      await client.pollBackchannelAuthenticationGrant(rp.config, { ...started, interval: 0.05 });
    }
    expect(await durable('Grant', citizen.citizenId)).toHaveLength(1);
  });
});
