import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM_PATH } from './browser.ts';

/**
 * A local stand-in for the Google services behind Chromium's Push API (GCM check-in and
 * registration), so `pushManager.subscribe()` works in a test without the internet. Chromium
 * is pointed at it with its own `--gcm-checkin-url` and `--gcm-registration-url` switches; it
 * then makes a real subscription (a real P-256 key pair and auth secret in the browser) whose
 * endpoint names the token given here. Delivery into the browser goes through the DevTools
 * protocol (`ServiceWorker.deliverPushMessage`), as the push service's own connection would.
 */
export interface FakeGcm {
  readonly url: string;
  /** Every Web Push registration: `sender` is the VAPID key the page subscribed with. */
  readonly registrations: Array<{ readonly sender: string; readonly token: string }>;
  close(): Promise<void>;
}

const ANDROID_ID = 4_242_424_242_424_242n;
const SECURITY_TOKEN = 1_717_171_717_171_717n;

/** AndroidCheckinResponse: stats_ok (1) = true, android_id (7) and security_token (8) as fixed64. */
function checkinResponse(): Buffer {
  const fixed64 = (tag: number, value: bigint) => {
    const field = Buffer.alloc(9);
    field[0] = tag;
    field.writeBigUInt64LE(value, 1);
    return field;
  };
  return Buffer.concat([Buffer.from([0x08, 0x01]), fixed64((7 << 3) | 1, ANDROID_ID), fixed64((8 << 3) | 1, SECURITY_TOKEN)]);
}

export async function startFakeGcm(): Promise<FakeGcm> {
  const registrations: Array<{ sender: string; token: string }> = [];
  let serial = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/checkin') {
        response.setHeader('content-type', 'application/x-protobuf');
        response.end(checkinResponse());
        return;
      }
      if (request.method === 'POST' && request.url === '/register') {
        // Only the device that checked in may register (Chromium sends its ids back).
        if (request.headers.authorization !== `AidLogin ${ANDROID_ID}:${SECURITY_TOKEN}`) {
          response.statusCode = 401;
          response.end('Error=AUTHENTICATION_FAILED');
          return;
        }
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const token = `tok${++serial}-${Date.now().toString(36)}`;
        // Chromium also registers itself once (sender = a Google project number): not a subscription.
        if (form.get('X-subtype')?.startsWith('wp:')) registrations.push({ sender: form.get('sender') ?? '', token });
        response.end(`token=${token}`);
        return;
      }
      response.statusCode = 404;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    registrations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A phone-sized Chromium with an ordinary (not incognito) profile, where the Push API works,
 * talking to `gcm`; notifications are allowed for every origin, as after the citizen said yes.
 */
export function launchPushPhone(gcm: FakeGcm, profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    viewport: { width: 390, height: 844 },
    permissions: ['notifications'],
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      `--gcm-checkin-url=${gcm.url}/checkin`,
      `--gcm-registration-url=${gcm.url}/register`,
      // Nothing listens here: messages reach the browser through DevTools instead.
      '--gcm-mcs-endpoint=https://127.0.0.1:9/',
    ],
  });
}
