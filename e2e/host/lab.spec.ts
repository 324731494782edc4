import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, screenshot, test } from '../support/fixtures';
import {
  connectCore,
  createProfile,
  grantRequest,
  importTinyCohort,
  openPage,
  unlockProfile,
  type CoreClient,
} from '../support/core-client';

let core: CoreClient | null = null;
test.afterEach(() => {
  core?.close();
  core = null;
});

test('lab journey: request access, get a ticket and fetch objects, run a job and see its result', async ({
  app,
  appPage: page,
}) => {
  test.setTimeout(300_000);
  core = await connectCore(app.url);
  await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);
  await expect(page.getByTestId('sync-state')).toHaveText(/Synced|Syncing \d/, { timeout: 30_000 });

  // The steward: a profile made in the UI, the bundled tiny cohort imported and registered.
  await createProfile(page, 'Lab journey steward', 'steward');
  const imported = await importTinyCohort(core);
  const datasetId = imported.dataset.datasetId;

  // The lab: its own profile on the same machine, then a request with purpose.
  const labSbt = await createProfile(page, 'Lab journey lab', 'lab');
  expect(labSbt).toBeGreaterThan(0);
  await screenshot(page, 'profiles-light');
  await openPage(page, 'lab-request');
  await page.getByLabel('Dataset').selectOption(String(datasetId));
  await expect(page.getByRole('checkbox', { name: 'READ' })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'COMPUTE' })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'HMB' })).toBeChecked();
  await expect(page.getByRole('button', { name: 'Request access' })).toBeDisabled();
  await page.getByLabel('Purpose text').fill('Case-control association study of variant burden in the tiny cohort');
  await screenshot(page, 'lab-request-light');
  await page.getByRole('button', { name: 'Request access' }).click();
  const sent = page.getByText(/^Request #\d+ sent$/);
  await expect(sent).toBeVisible({ timeout: 30_000 });
  const grantId = Number(/#(\d+)/.exec((await sent.textContent()) ?? '')?.[1]);
  await openPage(page, 'lab-grants');
  await expect(page.getByTestId(`request-${grantId}`)).toContainText('Requested');

  // The steward grants it (by IPC while its profile is unlocked in the UI).
  await unlockProfile(page, 'Lab journey steward');
  await grantRequest(core, grantId);
  await unlockProfile(page, 'Lab journey lab');

  await openPage(page, 'lab-grants');
  await expect(page.getByTestId(`request-${grantId}`)).toContainText('Granted');
  await expect(page.getByTestId(`grant-${grantId}`)).toContainText('Granted');
  await expect(page.getByTestId(`grant-${grantId}`)).toContainText('0/10');
  await screenshot(page, 'lab-grants-light');

  // A READ ticket; the manifest, then one object named in it.
  await openPage(page, 'lab-tickets');
  await page.getByLabel('Grant').selectOption(String(grantId));
  await page.getByLabel('Operation').selectOption('1');
  await page.getByRole('button', { name: 'Request ticket' }).click();
  const ticketRow = page.getByRole('table', { name: 'My tickets' }).locator('tbody tr').first();
  await expect(ticketRow).toContainText('READ');
  await expect(ticketRow).toContainText(/1[45]:\d\d/);
  await ticketRow.getByRole('button', { name: 'Fetch manifest' }).click();
  const manifestPath = (await page.getByTestId('saved-path').first().textContent()) ?? '';
  expect(manifestPath).toMatch(/manifest\.json$/);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { objects: { kind: string; digest: string }[] };
  const object = manifest.objects.find((o) => o.kind === 'genotypes') ?? manifest.objects[0]!;
  await ticketRow.getByLabel('Object digest').fill(object.digest);
  await ticketRow.getByRole('button', { name: 'Fetch object' }).click();
  await expect(page.getByTestId('saved-path')).toHaveCount(2);
  const objectPath = (await page.getByTestId('saved-path').first().textContent()) ?? '';
  expect(objectPath.endsWith(object.digest)).toBe(true);
  expect(existsSync(objectPath)).toBe(true);
  expect(createHash('sha256').update(readFileSync(objectPath)).digest('hex')).toBe(object.digest);
  await screenshot(page, 'lab-tickets-light');

  // A compute permit within the budget; the orchestrator runs it and posts the result.
  await openPage(page, 'lab-jobs');
  await page.getByLabel('Grant').selectOption(String(grantId));
  await page.getByLabel('ε (epsilon)').fill('5');
  await expect(page.getByText('Only ε 3 is left on this grant')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Issue permit' })).toBeDisabled();
  await page.getByLabel('ε (epsilon)').fill('0.5');
  await page.getByRole('button', { name: 'Issue permit' }).click();
  const issued = page.getByText(/^Permit #\d+ issued$/);
  await expect(issued).toBeVisible({ timeout: 30_000 });
  const permitId = Number(/#(\d+)/.exec((await issued.textContent()) ?? '')?.[1]);
  const permitRow = page.getByTestId(`permit-${permitId}`);
  await expect(permitRow).toContainText('GWAS, allelic χ²');
  await expect(permitRow).toContainText('Result posted', { timeout: 150_000 });
  await expect(permitRow).toContainText('derivative from the data owner');
  await screenshot(page, 'lab-jobs-light');
  // This grant's terms keep results with the owner; offline decryption is for bundles the owner releases.
  await permitRow.getByRole('button', { name: 'Decrypt offline' }).click();
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Result bundles');
  await expect(page.getByRole('table', { name: 'Decrypted result bundles' })).toContainText('No bundles decrypted yet');
  await screenshot(page, 'lab-bundles-light');

  // The grant shows the run and the ε spent.
  await openPage(page, 'lab-grants');
  await expect(page.getByTestId(`grant-${grantId}`)).toContainText('3/10'); // manifest + object fetches and the permit
  await expect(page.getByTestId(`grant-${grantId}`)).toContainText('0.5 / 3');
  await page.getByRole('button', { name: /switch to dark theme/i }).click();
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await screenshot(page, 'lab-grants-dark');
  await openPage(page, 'lab-jobs');
  await expect(permitRow).toContainText('Result posted');
  await screenshot(page, 'lab-jobs-dark');

  // A passphrase-protected backup of the lab profile, written where the user picks; a wrong passphrase
  // cannot restore it.
  const backupDir = mkdtempSync(path.join(os.tmpdir(), 'cos-backup-e2e-'));
  await openPage(page, 'profile');
  await page.getByRole('button', { name: 'Back up Lab journey lab' }).click();
  const backup = page.getByRole('dialog', { name: 'Back up a profile' });
  await backup.getByRole('button', { name: 'Choose location' }).click();
  const saveAs = page.getByRole('dialog', { name: 'Save the backup as' });
  await saveAs.getByRole('textbox', { name: 'Folder' }).fill(backupDir);
  await saveAs.getByRole('textbox', { name: 'Folder' }).press('Enter');
  await saveAs.getByLabel('File name').fill('lab.cosbackup');
  await saveAs.getByRole('button', { name: 'Save here' }).click();
  await backup.getByLabel('Passphrase', { exact: true }).fill('short');
  await expect(backup.getByRole('button', { name: 'Write backup' })).toBeDisabled();
  await backup.getByLabel('Passphrase', { exact: true }).fill('correct horse battery staple');
  await backup.getByLabel('Confirm passphrase').fill('correct horse battery staple');
  await backup.getByRole('button', { name: 'Write backup' }).click();
  await expect(page.getByText(/^Backup written to /)).toBeVisible({ timeout: 30_000 });
  const backupFile = path.join(backupDir, 'lab.cosbackup');
  expect(existsSync(backupFile)).toBe(true);
  await page.getByRole('button', { name: 'Choose backup file' }).click();
  const open = page.getByRole('dialog', { name: 'Choose a backup file' });
  await open.getByRole('textbox', { name: 'Folder' }).fill(backupDir);
  await open.getByRole('textbox', { name: 'Folder' }).press('Enter');
  await open.getByRole('button', { name: 'File lab.cosbackup' }).click();
  await page.getByLabel('Backup passphrase').fill('not the passphrase');
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Could not restore the backup' })).toBeVisible();
  await screenshot(page, 'profiles-dark');
});

test('settings: network, services, data folder; a change says whether a restart is needed', async ({
  app,
  appPage: page,
}) => {
  await openPage(page, 'settings');
  await expect(page.getByRole('heading', { name: 'Settings', level: 2 })).toBeVisible();
  await expect(page.getByTestId('data-dir')).toHaveText(/cos-e2e-/);
  expect(app.url).toContain('token=');
  // A custom network needs its RPC URL and deployment file before it can be saved.
  await page.getByText('Custom EVM network').click();
  await page.getByLabel('RPC URL').fill('not a url');
  await expect(page.getByText('Enter a full URL, e.g. http://127.0.0.1:8545')).toBeVisible();
  await expect(page.getByText('A custom network needs its deployment file')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeDisabled();
  await screenshot(page, 'settings-light');
  await page.getByRole('button', { name: 'Discard changes' }).click();
  await page.getByLabel('Confirmations').fill('3');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('restart-required')).toBeVisible();
  await expect(page.getByLabel('Confirmations')).toHaveValue('3');
  await page.getByRole('button', { name: /switch to dark theme/i }).click();
  await screenshot(page, 'settings-dark');
  await page.getByRole('button', { name: 'Open Profiles' }).click();
  await expect(page.getByRole('heading', { name: 'Profiles', level: 2 })).toBeVisible();
});
