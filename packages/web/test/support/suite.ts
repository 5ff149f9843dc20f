import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Dialect } from '../../../server/src/platform/db/index.ts';
import { launchChromium, type LaunchOptions } from './browser.ts';
import { startTestServer, type RunningTestServer } from './server.ts';

export interface BrowserSuite {
  readonly server: RunningTestServer;
  readonly browser: Browser;
}

/**
 * The real service and Chromium for the describe block it is called in: both started before
 * its tests, both closed after them (a block's own hooks, registered later, run inside these).
 */
export function serverAndBrowser(dialect: Dialect = 'sqlite', launch: LaunchOptions = {}): BrowserSuite {
  let server: RunningTestServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startTestServer(dialect);
    browser = await launchChromium(launch);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the suite's ${name} is not running: it starts in beforeAll`);
    return value;
  };
  return {
    get server() {
      return started(server, 'server');
    },
    get browser() {
      return started(browser, 'browser');
    },
  };
}
