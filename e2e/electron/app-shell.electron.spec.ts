import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electronBinary } from '../support/electron';
import { _electron as electron, expect, test } from '@playwright/test';
import { startLauncher, type RunningLauncher } from '../support/launcher';

const binary = electronBinary();
if (!binary)
  console.log(
    'electron specs skipped: the Electron runtime is not installed on this machine (npm install could not download it)',
  );

test.describe('Electron window', () => {
  test.skip(!binary, 'the Electron runtime is not installed on this machine');
  let devnet: RunningLauncher;
  let env: Record<string, string>;

  test.beforeAll(async () => {
    // The launcher provides the devnet and services; Electron then runs against them as `npm start` would.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-electron-'));
    devnet = await startLauncher(dataDir);
    const deployment = path.join(dataDir, 'devnet', 'deployment.json');
    const { rpcUrl } = JSON.parse(readFileSync(deployment, 'utf8')) as { rpcUrl: string };
    env = { COS_DATA_DIR: dataDir, COS_RPC_URL: rpcUrl, COS_DEPLOYMENT_FILE: deployment };
  });
  test.afterAll(async () => {
    await devnet?.interrupt();
  });

  test('opens a hardened window whose status bar follows the devnet', async () => {
    const baseEnv = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const app = await electron.launch({ executablePath: binary!, args: ['.'], env: { ...baseEnv, ...env } });
    const win = await app.firstWindow();
    await expect(win.getByTestId('chain-state')).toHaveText(/connected/i);
    const first = Number(await win.getByTestId('block-number').textContent());
    await expect
      .poll(async () => Number(await win.getByTestId('block-number').textContent()), { timeout: 15_000 })
      .toBeGreaterThan(first);
    // No Node in the page, only the named bridge methods, and no way out of the app origin.
    const page = await win.evaluate(() => {
      const g = globalThis as unknown as {
        require?: unknown;
        process?: unknown;
        cos: Record<string, unknown>;
        open(url: string): unknown;
      };
      const opened = g.open('https://example.org/');
      return {
        require: typeof g.require,
        process: typeof g.process,
        api: Object.keys(g.cos).sort(),
        opened: opened === null,
      };
    });
    expect(page).toEqual({
      require: 'undefined',
      process: 'undefined',
      api: ['appInfo', 'chainBlock', 'chainStatus', 'on', 'servicesHealth'],
      opened: true,
    });
    await win.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.org/';
    });
    await expect.poll(() => win.url()).toMatch(/^app:\/\/renderer\//);
    await win.screenshot({ path: path.resolve('test-results', 'screenshots', 'electron-shell.png') });
    await app.close();
  });
});
