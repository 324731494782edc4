import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALGORITHMS } from '../../shared/contracts/constants';
import { expect, screenshot, test } from '../support/fixtures';
import {
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

let core: CoreClient | null = null;
test.afterEach(() => {
  core?.close();
  core = null;
});

test('donor journey: see the uses, withdraw consent, the next job excludes the record, claim royalties', async ({
  app,
  appPage: page,
}) => {
  test.setTimeout(360_000);
  core = await connectCore(app.url);
  const c = core;
  await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);

  // The donor is onboarded first; its identity token id goes into the cohort's consent_id column.
  const donorSbt = await createProfile(page, 'Donor journey donor', 'donor');
  await createProfile(page, 'Donor journey steward', 'steward');
  const samples = await c.call('files.samples', {});
  const tiny = samples.find((s) => s.name.toLowerCase().includes('tiny')) ?? samples[0]!;
  const lines = readFileSync(tiny.phenotypeCsvPath, 'utf8').trimEnd().split('\n');
  const header = lines[0]!.split(',');
  const consentColumn = header.indexOf('consent_id');
  const first = lines[1]!.split(',');
  first[consentColumn] = String(donorSbt);
  lines[1] = first.join(',');
  const work = mkdtempSync(path.join(os.tmpdir(), 'cos-donor-e2e-'));
  const csv = path.join(work, 'phenotypes.csv');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const imported = await importTinyCohort(c, { phenotypeCsvPath: csv });
  const datasetId = imported.dataset.datasetId;
  const receiptsDir = imported.consentReceiptsDir;

  // A lab with a fee-bearing grant, funded through its UI, runs one job while the donor consents.
  await createProfile(page, 'Donor journey lab', 'lab');
  const { grantId } = await c.call('access.request', {
    datasetId,
    opMask: 8,
    purposeCodes: '4',
    purposeText: 'Allele counts for a replication study',
  });
  await unlockProfile(page, 'Donor journey steward');
  await grantRequest(c, grantId, { feePerUse: 10n ** 18n });
  await unlockProfile(page, 'Donor journey lab');
  await openPage(page, 'lab-grants');
  const grantRow = page.getByTestId(`grant-${grantId}`);
  await expect(grantRow).toContainText('1 COS');
  await grantRow.getByRole('button', { name: `Fund grant ${grantId}` }).click();
  await page.getByLabel('Runs to prepay').fill('2');
  await expect(page.getByText('Total: 2 COS')).toBeVisible();
  await page.getByRole('button', { name: 'Approve and fund' }).click();
  await expect(page.getByText(`Grant #${grantId} funded with 2 COS`)).toBeVisible({ timeout: 30_000 });
  const issue = () =>
    c.call('permits.issue', {
      grantId,
      algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
      epsilon: 500_000,
      delta: '0',
      params: {},
    });
  const firstPermit = await issue();
  await until(
    'the first result posted',
    async () =>
      (await c.call('permits.list', { grantId })).find(
        (p) => p.permitId === firstPermit.permitId && p.status === 'ResultPosted',
      ),
    150_000,
  );

  // The donor imports its receipt (the steward handed over the file) and sees the dataset and its uses.
  await unlockProfile(page, 'Donor journey donor');
  await openPage(page, 'donor-datasets');
  await page.getByRole('button', { name: 'Import consent receipt' }).click();
  const folder = page.getByRole('dialog').getByRole('textbox', { name: 'Folder' });
  await folder.fill(receiptsDir);
  await folder.press('Enter');
  await page.getByRole('button', { name: `File donor-${donorSbt}.json` }).click();
  const row = page.getByTestId(`consent-${datasetId}`);
  await expect(row).toContainText(`#${donorSbt}`, { timeout: 30_000 });
  await expect(row.getByTestId('consent-state')).toHaveText('Consented');
  await expect(row).toContainText('GRU');
  await expect(row).toContainText('HMB');
  await expect(row.getByRole('button', { name: /^[1-9]\d* uses?$/ })).toBeVisible();
  await screenshot(page, 'donor-datasets-light');
  await openPage(page, 'donor-uses');
  await expect(page.getByText('JobPermitIssued').first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('JobResultPosted').first()).toBeVisible();
  await screenshot(page, 'donor-uses-light');

  // Withdrawal, with its consequences spelled out first.
  await openPage(page, 'donor-datasets');
  await row.getByRole('button', { name: 'Withdraw consent…' }).click();
  await expect(page.getByRole('dialog')).toContainText('leaves your records out');
  await page.getByRole('dialog').getByRole('button', { name: 'Withdraw consent' }).click();
  await expect(row.getByTestId('consent-state')).toHaveText('Withdrawn', { timeout: 30_000 });
  await expect(row.getByRole('button', { name: 'Restore consent…' })).toBeVisible();

  // The used run was settled before the withdrawal: the donor's share is claimable.
  await openPage(page, 'donor-royalties');
  const royalty = page.getByTestId(`royalty-${datasetId}`);
  await expect(royalty.getByTestId('claimable')).not.toHaveText('0 COS', { timeout: 30_000 });
  const claimable = (await royalty.getByTestId('claimable').textContent()) ?? '';
  await screenshot(page, 'donor-royalties-light');
  await royalty.getByRole('button', { name: `Claim royalties of dataset ${datasetId}` }).click();
  await expect(page.getByText(`Claimed ${claimable} from dataset #${datasetId}`)).toBeVisible({ timeout: 30_000 });
  await expect(royalty.getByTestId('claimable')).toHaveText('0 COS', { timeout: 30_000 });
  await page.getByRole('button', { name: /switch to dark theme/i }).click();
  await openPage(page, 'donor-datasets');
  await screenshot(page, 'donor-datasets-dark');

  // The next job leaves the withdrawn record out: the steward's decrypted result says so.
  await unlockProfile(page, 'Donor journey lab');
  const second = await issue();
  await unlockProfile(page, 'Donor journey steward');
  const result = await until(
    'the second result decrypted',
    async () => {
      const view = await resultOf(c, second.permitId);
      return view?.state === 'decrypted' || view?.state === 'failed' ? view : null;
    },
    180_000,
  );
  expect(result.error).toBeNull();
  expect(result.state).toBe('decrypted');
  expect(result.excludedSamples).toBe(1);
  const before = await until('the first result decrypted', async () => {
    const view = await resultOf(c, firstPermit.permitId);
    return view?.state === 'decrypted' ? view : null;
  });
  expect(before.excludedSamples).toBe(0);
});
