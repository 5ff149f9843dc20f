export { enrollCitizen, type EnrolledCitizen } from './enroll.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../support/app.ts';
import type { Dialect } from '../../src/platform/db/index.ts';
import { DeviceClient } from '../../../client/src/index.ts';
import { hardwareKeyStore } from '../support/key-attestation.ts';

export interface ListeningApp extends TestApp {
  readonly url: string;
  /** Moves the service clock (and clients built with `clock`) forward. */
  advance(ms: number): void;
  readonly clock: () => number;
}

/** The whole service on a real port (the device client uses fetch), with a movable clock. */
export async function listeningApp(dialect: Dialect, options: Pick<Parameters<typeof createTestApp>[1] & object, 'logDestination' | 'config' | 'background'> = {}): Promise<ListeningApp> {
  let offset = 0;
  const clock = () => Date.now() + offset;
  const app = await createTestApp(dialect, {
    now: clock,
    config: { dataDir: mkdtempSync(join(tmpdir(), 'tasdiq-dev-')), ...options.config },
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    ...(options.background === false ? { background: false } : {}),
  });
  const address = await app.http.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(app, { url: address, clock, advance: (ms: number) => void (offset += ms) });
}


/**
 * Activates a phone whose two keys the test key store attests as generated in a TEE
 * (test/support/key-attestation.ts): the device is recorded hardware-backed, and one enrolled
 * in person signs in at `high`. Without it a DeviceClient's WebCrypto keys are software keys.
 */
export async function activateHardwareDevice(url: string, code: string, options: Omit<NonNullable<Parameters<typeof DeviceClient.activate>[2]>, 'keyAttestation'> = {}): Promise<DeviceClient> {
  return DeviceClient.activate(url, code, { ...options, keyAttestation: await hardwareKeyStore() });
}
