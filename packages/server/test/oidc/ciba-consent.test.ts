import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { testDialects } from '../support/databases.ts';
import { CibaFollower } from '../../src/oidc/ciba.ts';
import type { Authenticator } from '../../src/oidc/authenticator.ts';
import { citizenWithApp, registerRp, signInWithApp, startService, type Citizen, type Rp, type Service } from './journey.ts';

const oauth = (error: unknown) => error as { error?: string; error_description?: string };

/**
 * CIBA has no screen to ask for consent on: a request for anything beyond `openid` needs a
 * consent the citizen gave that service at a browser sign-in and has not withdrawn. Pending
 * requests are followed by one shared follower: woken by in-process completions, found by a
 * bounded poll when the phone answered elsewhere, and resumed after a restart.
 */
describe.each(testDialects())('CIBA: consent and the shared follower, on %s', (dialect) => {
  let service: Service;
  beforeAll(async () => {
    service = await startService(dialect);
  });
  afterAll(async () => service.close());

  const cibaRp = (clientId: string) => registerRp(service, clientId, ['openid', 'pinfl'], ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'], { ciba_delivery_mode: 'poll', subject_type: 'public' });

  async function confirmCiba(citizen: Citizen): Promise<void> {
    const request = await citizen.device.pending();
    expect(request).toMatchObject({ interaction: 'confirmation_message' });
    await citizen.device.confirm(request!);
  }

  async function pendingRows(): Promise<number> {
    return (await service.app.context.db.selectFrom('oidc_ciba_attempts').select('jti').execute()).length;
  }

  it('refuses claims without a consent (the phone is not asked), serves them after one, and refuses again once it is withdrawn', async () => {
    const rp = await cibaRp('counter-ciba');
    const citizen = await citizenWithApp(service);

    const refused = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid pinfl', login_hint: citizen.phone, binding_message: 'Ariza 12' }).catch((e: unknown) => e);
    expect(oauth(refused).error).toBe('access_denied');
    expect(oauth(refused).error_description).toMatch(/not consented/);
    expect(await citizen.device.pending()).toBeNull();
    expect(await pendingRows()).toBe(0);

    // openid alone needs no consent.
    const plain = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid', login_hint: citizen.phone, binding_message: 'Ariza 13' });
    await confirmCiba(citizen);
    expect((await client.pollBackchannelAuthenticationGrant(rp.config, { ...plain, interval: 0.05 })).claims()?.sub).toBe(citizen.citizenId);

    // The citizen signs in at the service's site once and consents to the PINFL.
    await signInWithApp(service, rp, citizen, { params: { scope: 'openid pinfl' } });
    const consented = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid pinfl', login_hint: citizen.pinfl, binding_message: 'Ariza 14' });
    await confirmCiba(citizen);
    const tokens = await client.pollBackchannelAuthenticationGrant(rp.config, { ...consented, interval: 0.05 });
    expect((await client.fetchUserInfo(rp.config, tokens.access_token, citizen.citizenId)).pinfl).toBe(citizen.pinfl);
    const authTime = tokens.claims()!.auth_time!;
    expect(Math.abs(authTime - Date.now() / 1000)).toBeLessThan(120);

    // Withdrawn in the app: refused again.
    expect(await service.oidc.withdrawConsent(citizen.citizenId, rp.clientId, { deviceId: citizen.device.deviceId })).toBe(true);
    const after = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid pinfl', login_hint: citizen.phone, binding_message: 'Ariza 15' }).catch((e: unknown) => e);
    expect(oauth(after).error).toBe('access_denied');
  });

  it('withdrawing consent while the phone is being answered: the request ends access_denied, no tokens', async () => {
    const rp = await cibaRp('counter-race');
    const citizen = await citizenWithApp(service);
    await signInWithApp(service, rp, citizen, { params: { scope: 'openid pinfl' } });
    const started = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid pinfl', login_hint: citizen.phone, binding_message: 'Ariza 16' });
    await service.oidc.withdrawConsent(citizen.citizenId, rp.clientId, { deviceId: citizen.device.deviceId });
    await confirmCiba(citizen);
    const polled = await client.pollBackchannelAuthenticationGrant(rp.config, { ...started, interval: 0.05 }).catch((e: unknown) => e);
    expect(oauth(polled).error).toBe('access_denied');
  });

  /** A second follower over the same service, as a restarted instance would have. */
  function follower(authenticator: Authenticator, intervalMs: number): CibaFollower {
    const { oidc } = service;
    return new CibaFollower({
      db: service.app.context.db,
      authenticator,
      consents: oidc.consents,
      storage: oidc.storage,
      provider: () => oidc.provider,
      logger: service.app.context.logger,
      now: service.app.context.now,
      intervalMs,
    });
  }

  async function stranded(rp: Rp, citizen: Citizen): Promise<client.BackchannelAuthenticationResponse> {
    // The running follower stops (the instance went away); the request's row stays.
    const started = await client.initiateBackchannelAuthentication(rp.config, { scope: 'openid', login_hint: citizen.phone, binding_message: 'Ariza 20' });
    expect(await pendingRows()).toBe(1);
    service.oidc.ciba.stop();
    return started;
  }

  it('resumes a pending request after a restart, completed by the in-process event with no polling round', async () => {
    const rp = await cibaRp('counter-resume');
    const citizen = await citizenWithApp(service);
    const started = await stranded(rp, citizen);
    // A poll round only every ten minutes: only the completion event can answer in time.
    const restarted = follower(service.oidc.authenticator, 600_000);
    try {
      expect(await restarted.resume()).toBe(1);
      await confirmCiba(citizen);
      const tokens = await client.pollBackchannelAuthenticationGrant(rp.config, { ...started, interval: 0.05 });
      expect(tokens.claims()?.sub).toBe(citizen.citizenId);
      expect(await pendingRows()).toBe(0);
      expect(restarted.size).toBe(0);
    } finally {
      restarted.stop();
    }
  });

  it('finds an answer given on another instance (no event here) with one bounded round over every pending request', async () => {
    const rp = await cibaRp('counter-elsewhere');
    const citizen = await citizenWithApp(service);
    const started = await stranded(rp, citizen);
    // No `watch`: this instance hears nothing; `settled` asks about all pending attempts at once.
    const { watch: _watch, ...deaf } = service.oidc.authenticator;
    let rounds = 0;
    const counted: Authenticator = {
      ...deaf,
      async settled(ids) {
        rounds += 1;
        return deaf.settled!(ids);
      },
    };
    const restarted = follower(counted, 50);
    try {
      expect(await restarted.resume()).toBe(1);
      await confirmCiba(citizen);
      const tokens = await client.pollBackchannelAuthenticationGrant(rp.config, { ...started, interval: 0.05 });
      expect(tokens.claims()?.sub).toBe(citizen.citizenId);
      expect(rounds).toBeGreaterThan(0);
      expect(await pendingRows()).toBe(0);
    } finally {
      restarted.stop();
    }
  });

  it('a pending-request row nobody will answer (its instance went away) goes once expired', async () => {
    const now = Date.now();
    await service.app.context.db
      .insertInto('oidc_ciba_attempts')
      .values({ jti: 'stale-jti', attempt_id: 'as_stale', account_id: 'cit_x', client_id: 'counter-ciba', acceptable: '[]', expires_at: now - 1000 })
      .execute();
    await service.oidc.maintain();
    expect(await service.app.context.db.selectFrom('oidc_ciba_attempts').select('jti').where('jti', '=', 'stale-jti').execute()).toEqual([]);
  });
});
