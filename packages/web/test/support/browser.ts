import { expect } from 'vitest';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.TASDIQ_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Browser tests skip only when asked to (TASDIQ_SKIP_BROWSER=1). A machine without Chromium
 * otherwise fails them loudly, so a green run never hides an untested console.
 */
export const skipBrowser = process.env.TASDIQ_SKIP_BROWSER === '1';

export interface LaunchOptions {
  /**
   * A Y4M or MJPEG clip Chromium plays as the camera. Access stays a per-context permission:
   * `newContext({ permissions: ['camera'] })` grants it; without it the request is refused, as
   * when the citizen says no.
   */
  readonly fakeCameraFile?: string;
}

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Browser tests need Chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium), ` +
        'point TASDIQ_CHROMIUM at another binary, or set TASDIQ_SKIP_BROWSER=1 to skip these tests on purpose.',
    );
  }
  const camera = options.fakeCameraFile
    ? ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${options.fakeCameraFile}`]
    : [];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...ARGS, ...camera], headless: true, timeout: 30_000 });
}

/**
 * Page errors and console errors (a CSP violation among them), for asserting a clean page.
 * A 4xx answer the page expects (401 before sign-in, 400 for a wrong code) is not an error.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) {
      errors.push(`console: ${text}`);
    }
  });
  return errors;
}

/** A platform authenticator with user verification, like a phone's or laptop's passkey store. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** Opens the citizen app at `serverUrl`, activates it with `code` (in its default language) and waits until it says so. */
export async function activateApp(page: Page, serverUrl: string, code: string): Promise<void> {
  await page.goto(`${serverUrl}/app/`);
  await page.getByLabel('Faollashtirish kodi').fill(code);
  await page.getByRole('button', { name: 'Faollashtirish', exact: true }).click();
  await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toBe('Ilova faollashtirildi');
}

/** The page's first-level heading, as a reader finds where they are. */
export const heading = (page: Page): Promise<string | null> => page.getByRole('heading', { level: 1 }).textContent();

/**
 * The heading, or what the page's alerts say when it shows any: a wait for the next page then
 * fails with the reason the page gave (a refused passkey, a server problem), not a bare title.
 */
export async function headingOrAlert(page: Page): Promise<string | null> {
  const alerts = (await page.getByRole('alert').allTextContents()).filter((text) => text.trim());
  return alerts.length ? `alert: ${alerts.join(' | ')}` : heading(page);
}
