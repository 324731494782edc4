import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { startLauncher, type RunningLauncher } from './launcher';

export const SCREENSHOT_DIR = path.resolve('test-results', 'screenshots');

/** The whole app as `npm start` runs it (devnet, contracts, gateway, orchestrator, host), once per worker. */
export const test = base.extend<{ appPage: Page }, { app: RunningLauncher }>({
  app: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixture's dependencies from this pattern
    async ({}, use) => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-e2e-'));
      const app = await startLauncher(dataDir);
      await use(app);
      const code = await app.interrupt();
      expect(code, app.output()).toBe(0);
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  appPage: async ({ app, page }, use) => {
    await page.goto(app.url);
    await use(page);
  },
});

export { expect };

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
