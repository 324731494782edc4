import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electronBinary } from '../support/electron';
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { startLauncher, type RunningLauncher } from '../support/launcher';

const binary = electronBinary();
if (!binary)
  console.log(
    'electron specs skipped: the Electron runtime is not installed on this machine (npm install could not download it)',
  );

async function shot(win: Page, name: string): Promise<void> {
  await win.screenshot({ path: path.resolve('test-results', 'screenshots', `electron-${name}.png`), fullPage: true });
}

/** The steward journey of e2e/host/steward.spec.ts in the Electron window, every step through the UI. */
test.describe('Electron steward journey', () => {
  test.skip(!binary, 'the Electron runtime is not installed on this machine');
  let devnet: RunningLauncher;
  let app: ElectronApplication;

  test.beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-electron-steward-'));
    devnet = await startLauncher(dataDir);
    const deployment = path.join(dataDir, 'devnet', 'deployment.json');
    const { rpcUrl } = JSON.parse(readFileSync(deployment, 'utf8')) as { rpcUrl: string };
    const baseEnv = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    // The window's core gets its own data folder; the devnet and services are the launcher's.
    app = await electron.launch({
      executablePath: binary!,
      args: ['.'],
      env: {
        ...baseEnv,
        COS_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cos-electron-steward-app-')),
        COS_RPC_URL: rpcUrl,
        COS_DEPLOYMENT_FILE: deployment,
      },
    });
  });
  test.afterAll(async () => {
    await app?.close();
    await devnet?.interrupt();
  });

  test('onboard, import, approve a request, see the GWAS result and verify the audit trail', async () => {
    test.setTimeout(300_000);
    const win = await app.firstWindow();
    await expect(win.getByTestId('chain-state')).toHaveText(/connected/i);

    const createProfile = async (label: string, role: 'steward' | 'lab') => {
      await win.getByTestId('nav-profile').click();
      await win.getByLabel('Profile name').fill(label);
      await win.getByLabel('Role').selectOption(role);
      await win.getByRole('button', { name: 'Create and onboard' }).click();
      await expect(win.getByTestId('active-profile')).toContainText(label, { timeout: 60_000 });
    };
    const unlock = async (label: string) => {
      await win.getByTestId('nav-profile').click();
      await win.getByRole('button', { name: `Unlock ${label}` }).click();
      await expect(win.getByTestId('active-profile')).toContainText(label);
    };
    const workspace = (name: 'Steward' | 'Lab') => win.locator('label', { hasText: name }).click();

    await createProfile('Hospital data office', 'steward');
    await workspace('Steward');
    await win.getByTestId('nav-datasets').click();
    await win.getByRole('button', { name: /Use cohort tiny/i }).click();
    await win.getByRole('button', { name: 'Import and register' }).click();
    await expect(win.getByTestId('import-progress')).toHaveAttribute('data-done', 'true', { timeout: 120_000 });
    await shot(win, 'steward-datasets');

    await createProfile('Genomics lab', 'lab');
    await workspace('Lab');
    await win.getByTestId('nav-lab-request').click();
    await win.getByLabel('Dataset').selectOption({ index: 1 });
    await win.getByRole('checkbox', { name: 'COMPUTE' }).check();
    await win.getByLabel('Purpose text').fill('Case-control association study');
    await win.getByRole('checkbox', { name: 'HMB' }).check();
    await win.getByRole('button', { name: 'Request access' }).click();

    await unlock('Hospital data office');
    await workspace('Steward');
    await win.getByTestId('nav-requests').click();
    await win.getByRole('button', { name: 'Review and approve' }).first().click();
    await win.getByRole('dialog').getByRole('button', { name: 'Approve with these clauses' }).click();
    await expect(win.getByRole('dialog')).toBeHidden({ timeout: 30_000 });

    await unlock('Genomics lab');
    await workspace('Lab');
    await win.getByTestId('nav-lab-jobs').click();
    await win.getByLabel('Grant').selectOption({ index: 1 });
    await win.getByLabel('Algorithm').selectOption('GWAS_ALLELIC_CHISQ');
    await win
      .getByRole('button', { name: /Issue|Run/ })
      .first()
      .click();

    await unlock('Hospital data office');
    await workspace('Steward');
    await win.getByTestId('nav-jobs').click();
    await expect(win.getByTestId('result-state').first()).toHaveText('Decrypted', { timeout: 150_000 });
    await win
      .getByRole('button', { name: /View the result of permit/ })
      .first()
      .click();
    await expect(win.getByTestId('manhattan-plot')).toBeVisible();
    await shot(win, 'steward-jobs');

    await win.getByTestId('nav-audit').click();
    const table = win.getByRole('table', { name: 'Audit events' });
    await table
      .getByRole('button', { name: /Verify event/ })
      .first()
      .click();
    await expect(table.getByTestId('verified')).toHaveCount(1, { timeout: 30_000 });
    await shot(win, 'steward-audit');
  });
});
