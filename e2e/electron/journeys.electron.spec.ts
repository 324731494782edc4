import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electronBinary } from '../support/electron';
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { ALGORITHMS } from '../../shared/contracts/constants';
import { methodName } from '../../shared/ipc/api';
import type { ChannelName, ChannelRequest, ChannelResponse } from '../../shared/ipc/contract';
import type { IpcResult } from '../../shared/ipc/errors';
import {
  CoreCallError,
  connectCore,
  resultOf,
  createProfile,
  grantRequest,
  importTinyCohort,
  openPage,
  unlockProfile,
  until,
  type CoreClient,
} from '../support/core-client';
import { startLauncher, type RunningLauncher } from '../support/launcher';

const binary = electronBinary();
if (!binary)
  console.log(
    'electron journeys skipped: the Electron runtime is not installed on this machine (npm install could not download it)',
  );

/** The steward's side by IPC through the window's own bridge (window.cos), as the host specs do over the socket. */
function bridgeCore(win: Page): CoreClient {
  return {
    async call<C extends ChannelName>(channel: C, request: ChannelRequest<C>): Promise<ChannelResponse<C>> {
      const result = (await win.evaluate(
        ({ method, request: body }) =>
          (globalThis as unknown as { cos: Record<string, (r: unknown) => Promise<unknown>> }).cos[method]!(body),
        { method: methodName(channel), request: request as unknown },
      )) as IpcResult<ChannelResponse<C>>;
      if (!result.ok) throw new CoreCallError(channel, result.error);
      return result.value;
    },
    waitForEvent() {
      return Promise.reject(new Error('not used in the Electron journeys'));
    },
    close() {},
  };
}

test.describe('Electron journeys (lab, revocation, donor)', () => {
  test.skip(!binary, 'the Electron runtime is not installed on this machine');
  test.describe.configure({ mode: 'serial' });
  let devnet: RunningLauncher;
  let app: ElectronApplication;
  let win: Page;
  let core: CoreClient;

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    const devnetDir = mkdtempSync(path.join(os.tmpdir(), 'cos-electron-devnet-'));
    devnet = await startLauncher(devnetDir);
    const deployment = path.join(devnetDir, 'devnet', 'deployment.json');
    const { rpcUrl } = JSON.parse(readFileSync(deployment, 'utf8')) as { rpcUrl: string };
    const host = await connectCore(devnet.url);
    const services = await host.call('services.health', {});
    host.close();
    const url = (name: string) => services.find((s) => s.name === name)?.url ?? '';
    const baseEnv = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    // The app gets its own data folder (its own vault and cache) on the launcher's chain and services.
    app = await electron.launch({
      executablePath: binary!,
      args: ['.'],
      env: {
        ...baseEnv,
        COS_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cos-electron-app-')),
        COS_RPC_URL: rpcUrl,
        COS_DEPLOYMENT_FILE: deployment,
        COS_GATEWAY_URL: url('gateway'),
        COS_ORCHESTRATOR_URL: url('orchestrator'),
      },
    });
    win = await app.firstWindow();
    core = bridgeCore(win);
    await expect(win.getByTestId('chain-state')).toHaveText(/connected/i);
  });
  test.afterAll(async () => {
    await app?.close();
    await devnet?.interrupt();
  });

  test('lab: request, ticket and fetch, job and result', async () => {
    test.setTimeout(300_000);
    await createProfile(win, 'E steward', 'steward');
    const { dataset } = await importTinyCohort(core);
    await createProfile(win, 'E lab', 'lab');
    await openPage(win, 'lab-request');
    await win.getByLabel('Dataset').selectOption(String(dataset.datasetId));
    await win.getByLabel('Purpose text').fill('Case-control association study (Electron journey)');
    await win.getByRole('button', { name: 'Request access' }).click();
    const sent = win.getByText(/^Request #\d+ sent$/);
    await expect(sent).toBeVisible({ timeout: 30_000 });
    const grantId = Number(/#(\d+)/.exec((await sent.textContent()) ?? '')?.[1]);
    await unlockProfile(win, 'E steward');
    await grantRequest(core, grantId);
    await unlockProfile(win, 'E lab');
    await openPage(win, 'lab-tickets');
    await win.getByLabel('Grant').selectOption(String(grantId));
    await win.getByRole('button', { name: 'Request ticket' }).click();
    const row = win.getByRole('table', { name: 'My tickets' }).locator('tbody tr').first();
    await row.getByRole('button', { name: 'Fetch manifest' }).click();
    const manifestPath = (await win.getByTestId('saved-path').first().textContent()) ?? '';
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { objects: { digest: string }[] };
    const digest = manifest.objects[0]!.digest;
    await row.getByLabel('Object digest').fill(digest);
    await row.getByRole('button', { name: 'Fetch object' }).click();
    await expect(win.getByTestId('saved-path')).toHaveCount(2);
    const objectPath = (await win.getByTestId('saved-path').first().textContent()) ?? '';
    expect(createHash('sha256').update(readFileSync(objectPath)).digest('hex')).toBe(digest);
    await openPage(win, 'lab-jobs');
    await win.getByLabel('Grant').selectOption(String(grantId));
    await win.getByRole('button', { name: 'Issue permit' }).click();
    const issued = win.getByText(/^Permit #\d+ issued$/);
    await expect(issued).toBeVisible({ timeout: 30_000 });
    const permitId = Number(/#(\d+)/.exec((await issued.textContent()) ?? '')?.[1]);
    await expect(win.getByTestId(`permit-${permitId}`)).toContainText('Result posted', { timeout: 150_000 });
    await win.screenshot({ path: path.resolve('test-results', 'screenshots', 'electron-lab-jobs.png') });

    // Revocation: the live ticket stops working within seconds.
    await unlockProfile(win, 'E steward');
    await core.call('access.revoke', { grantId });
    const revokedAt = Date.now();
    await unlockProfile(win, 'E lab');
    await openPage(win, 'lab-tickets');
    await row.getByLabel('Object digest').fill(digest);
    const refused = win.getByRole('alert').filter({ hasText: 'The gateway refused the fetch' });
    await expect
      .poll(
        async () => {
          if ((await refused.count()) === 0) await row.getByRole('button', { name: 'Fetch object' }).click();
          await win.waitForTimeout(1_000);
          return (await refused.count()) > 0;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(Date.now() - revokedAt).toBeLessThan(20_000);
  });

  test('donor: uses, withdrawal, exclusion, royalties', async () => {
    test.setTimeout(360_000);
    const donorSbt = await createProfile(win, 'E donor', 'donor');
    await unlockProfile(win, 'E steward');
    const samples = await core.call('files.samples', {});
    const tiny = samples.find((s) => s.name.toLowerCase().includes('tiny')) ?? samples[0]!;
    const lines = readFileSync(tiny.phenotypeCsvPath, 'utf8').trimEnd().split('\n');
    const column = lines[0]!.split(',').indexOf('consent_id');
    const cells = lines[1]!.split(',');
    cells[column] = String(donorSbt);
    lines[1] = cells.join(',');
    const csv = path.join(mkdtempSync(path.join(os.tmpdir(), 'cos-electron-donor-')), 'phenotypes.csv');
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const imported = await importTinyCohort(core, { phenotypeCsvPath: csv });
    const datasetId = imported.dataset.datasetId;
    await unlockProfile(win, 'E lab');
    const { grantId } = await core.call('access.request', {
      datasetId,
      opMask: 8,
      purposeCodes: '4',
      purposeText: 'Allele counts (Electron donor journey)',
    });
    await unlockProfile(win, 'E steward');
    await grantRequest(core, grantId, { feePerUse: 10n ** 18n });
    await unlockProfile(win, 'E lab');
    await core.call('access.fund', { grantId, runs: 2 });
    const issue = () =>
      core.call('permits.issue', {
        grantId,
        algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
        epsilon: 0,
        delta: '0',
        params: {},
      });
    const first = await issue();
    await until(
      'first result',
      async () =>
        (await core.call('permits.list', { grantId })).find((p) => p.permitId === first.permitId && p.resultURI),
      150_000,
    );
    await unlockProfile(win, 'E donor');
    await openPage(win, 'donor-datasets');
    await win.getByRole('button', { name: 'Import consent receipt' }).click();
    const folder = win.getByRole('dialog').getByRole('textbox', { name: 'Folder' });
    await folder.fill(imported.consentReceiptsDir);
    await folder.press('Enter');
    await win.getByRole('button', { name: `File donor-${donorSbt}.json` }).click();
    const row = win.getByTestId(`consent-${datasetId}`);
    await expect(row.getByTestId('consent-state')).toHaveText('Consented', { timeout: 30_000 });
    await row.getByRole('button', { name: 'Withdraw consent…' }).click();
    await win.getByRole('dialog').getByRole('button', { name: 'Withdraw consent' }).click();
    await expect(row.getByTestId('consent-state')).toHaveText('Withdrawn', { timeout: 30_000 });
    await openPage(win, 'donor-royalties');
    await win.getByRole('button', { name: `Claim royalties of dataset ${datasetId}` }).click();
    await expect(win.getByText(/^Claimed .* COS from dataset/)).toBeVisible({ timeout: 30_000 });
    await unlockProfile(win, 'E lab');
    const second = await issue();
    await unlockProfile(win, 'E steward');
    const result = await until(
      'second result decrypted',
      async () => {
        const view = await resultOf(core, second.permitId);
        return view?.state === 'decrypted' ? view : null;
      },
      180_000,
    );
    expect(result.excludedSamples).toBe(1);
  });
});
