import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, type DeviceState } from '../../../client/src/index.ts';
import { enrollCitizen, listeningApp, type ListeningApp } from './fixtures.ts';

/**
 * The app stores its state before each signed request leaves, so an app closed mid-request
 * restarts from a counter at least as high as any the server saw, and is not refused as a replay.
 */
describe('the device counter survives an app closed mid-request', () => {
  let app: ListeningApp;
  beforeAll(async () => {
    app = await listeningApp('sqlite');
  });
  afterAll(async () => app?.close());

  it('stores the moved counter before sending, so a restarted app is never behind the server', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    let stored: DeviceState | undefined;
    const storedCounters: number[] = [];
    device.persistState = async (state) => {
      storedCounters.push(state.counter);
      stored = structuredClone({ ...state, authKey: undefined, signKey: undefined }) as unknown as DeviceState;
    };
    await device.pending();
    await device.pending();
    const seen = await app.context.db.selectFrom('devices').select('counter').where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(storedCounters).toHaveLength(2);
    expect(storedCounters.at(-1)).toBe(Number(seen.counter));

    // The "reloaded" app: the stored state with the same keys.
    const restarted = new DeviceClient({ ...stored!, authKey: device.state.authKey, signKey: device.state.signKey });
    await expect(restarted.pending()).resolves.toBeNull();
  });
});

describe('a device whose stored counter lags the server', () => {
  let app: ListeningApp;
  beforeAll(async () => {
    app = await listeningApp('sqlite');
  });
  afterAll(async () => app?.close());

  it('resynchronises once by jumping ahead, while a replayed request is still refused', async () => {
    const citizen = await enrollCitizen(app.context.db, app.url, app.clock);
    const device = await DeviceClient.activate(app.url, await citizen.activationCode(), { now: app.clock });
    await device.pending();
    const replayHeaders = await device.signRequest('GET', '/api/v1/device/requests/pending', '');
    await fetch(`${app.url}/api/v1/device/requests/pending`, { headers: replayHeaders });
    const replay = await fetch(`${app.url}/api/v1/device/requests/pending`, { headers: replayHeaders });
    expect(((await replay.json()) as { code: string }).code).toBe('device_request_replayed');

    device.state.counter -= 3; // an app restored from an older copy of its state
    await expect(device.pending()).resolves.toBeNull();
    const seen = await app.context.db.selectFrom('devices').select('counter').where('id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(Number(seen.counter)).toBe(device.state.counter);
  });
});
