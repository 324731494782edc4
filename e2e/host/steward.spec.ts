import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ALGORITHMS, OP } from '../../shared/contracts/constants';
import { duoMask } from '../../shared/domain/duo';
import { connectCore, until, type CoreClient } from '../support/core-client';
import { expect, screenshot, test } from '../support/fixtures';

/**
 * The steward's journey against the real stack (devnet, gateway, orchestrator, keychain): onboard, import
 * the bundled tiny cohort, approve a lab's request with clauses, see the lab's GWAS job run, and view the
 * decrypted result (Manhattan, QQ, PLINK table), export it, and check the audit trail against the chain.
 * The lab's own steps (its profile, request and permit) go through the core client: this spec is about
 * the steward's workspace; the lab's pages have their own journey (lab.spec.ts).
 */
test.describe.configure({ mode: 'serial' });

test('steward journey: onboard, import, approve with clauses, GWAS result, audit', async ({ app, appPage: page }) => {
  test.setTimeout(240_000);
  const core: CoreClient = await connectCore(app.url);
  try {
    await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);

    // 1. A steward profile: keys made in the core, identity token minted; address and fingerprints shown.
    await page.getByTestId('nav-profile').click();
    await page.getByLabel('Profile name').fill('Hospital data office');
    await page.getByLabel('Role').selectOption('steward');
    await page.getByRole('button', { name: 'Create and onboard' }).click();
    await expect(page.getByTestId('active-profile')).toContainText('Hospital data office', { timeout: 60_000 });
    const steward = await until('the steward onboarded', async () =>
      (await core.call('profiles.list', {})).find((p) => p.label === 'Hospital data office' && p.sbtId !== null),
    );
    const profileRow = page.getByTestId('profile-Hospital data office');
    await expect(profileRow).toBeVisible();
    await expect(profileRow).toContainText(steward.fingerprints.wallet!.slice(0, 8));
    await screenshot(page, 'steward-profile-light');

    // 2. Import the bundled tiny cohort: the progress bar runs through encryption and upload to done.
    await page.locator('label', { hasText: 'Steward' }).click();
    await page.getByTestId('nav-datasets').click();
    await expect(page.getByRole('heading', { name: 'Datasets', level: 2 })).toBeVisible();
    await page.getByRole('button', { name: /Use cohort tiny/i }).click();
    await expect(page.getByRole('textbox', { name: 'VCF file' })).toHaveValue(/cohort\.vcf$/);
    await page.getByRole('button', { name: 'Import and register' }).click();
    await expect(page.getByTestId('import-progress')).toBeVisible();
    await expect(page.getByTestId('import-progress')).toHaveAttribute('data-done', 'true', { timeout: 120_000 });
    const receiptsDir = (await page.getByTestId('receipts-dir').textContent())!.trim();
    expect(receiptsDir).toMatch(/consent-receipts$/);
    const dataset = await until('the dataset in the cache', async () =>
      (await core.call('datasets.list', {})).find((d) => d.mine),
    );
    await expect(page.getByTestId(`dataset-${dataset.datasetId}`)).toContainText(`#${dataset.datasetId}`);
    await expect(page.getByTestId(`dataset-${dataset.datasetId}`)).toContainText('HMB');
    await screenshot(page, 'steward-datasets-light');

    // 3. A lab (a second profile in the same app) asks for COMPUTE with purpose HMB.
    await core.call('profiles.create', { label: 'Genomics lab', role: 'lab' });
    const lab = await core.call('profiles.onboard', {});
    const requested = await core.call('access.request', {
      datasetId: dataset.datasetId,
      opMask: OP.COMPUTE,
      purposeCodes: duoMask(['HMB']),
      purposeText: 'Case-control association study of the tiny cohort',
    });
    await core.call('profiles.unlock', { profileId: steward.id });
    await page.reload();
    await expect(page.getByTestId('active-profile')).toContainText('Hospital data office');

    // 4. The steward reviews the request and approves it with clauses; bad clauses are refused first.
    await page.getByTestId('nav-requests').click();
    const card = page.getByTestId(`request-${requested.grantId}`);
    await expect(card).toBeVisible({ timeout: 30_000 });
    await expect(card).toContainText(`#${lab.sbtId}`);
    await expect(card).toContainText(lab.address);
    await expect(card).toContainText('HMB');
    await screenshot(page, 'steward-requests-light');
    await card.getByRole('button', { name: 'Review and approve' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Region').fill('germany');
    await dialog.getByLabel('Owner %').fill('90');
    await dialog.getByRole('button', { name: 'Approve with these clauses' }).click();
    await expect(dialog.getByText('Fix the clauses first')).toBeVisible();
    await dialog.getByLabel('Region').fill('');
    await dialog.getByLabel('Owner %').fill('70');
    await dialog.getByLabel('Max runs').fill('5');
    await dialog.getByLabel('Privacy budget ε').fill('4');
    await dialog.getByLabel('Fee per use (COS)').fill('0');
    // Output terms: the lab may receive results re-encrypted to its own key (exact, so no noise).
    await dialog.getByRole('switch', { name: /Key switching allowed/ }).check();
    await screenshot(page, 'steward-clause-editor-light');
    await dialog.getByRole('button', { name: 'Approve with these clauses' }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    const granted = await until('the grant in the cache', async () =>
      (await core.call('grants.list', { mine: true })).find((g) => g.grantId === requested.grantId),
    );
    expect(granted).toMatchObject({ maxRuns: 5, epsilonCap: 4_000_000, opMask: OP.COMPUTE, region: '' });

    // 5. The lab issues an allelic GWAS permit; the orchestrator computes and posts the result.
    await core.call('profiles.unlock', { profileId: lab.id });
    await until('the grant in the lab cache', async () =>
      (await core.call('grants.list', { mine: true })).find((g) => g.grantId === requested.grantId),
    );
    const permit = await core.call('permits.issue', {
      grantId: requested.grantId,
      algorithmId: ALGORITHMS.GWAS_ALLELIC_CHISQ.id,
      epsilon: 1_000_000,
      delta: '1000',
      params: {},
    });
    await core.call('profiles.unlock', { profileId: steward.id });
    await page.reload();

    // 6. The steward sees the job, its result decrypted here, and the GWAS views.
    await page.getByTestId('nav-jobs').click();
    const row = page.getByTestId(`permit-${permit.permitId}`);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.getByTestId('result-state')).toHaveText('Decrypted', { timeout: 150_000 });
    await row.getByRole('button', { name: `View the result of permit ${permit.permitId}` }).click();
    const result = page.getByTestId(`result-${permit.permitId}`);
    await expect(result.getByTestId('manhattan-plot')).toBeVisible();
    const view = await core.call('results.get', { permitId: permit.permitId });
    const table = (view.result as { table: { rows: { p: number | null }[] } }).table;
    expect(table.rows.length).toBeGreaterThan(0);
    await expect(result.getByTestId('manhattan-plot').locator('circle')).toHaveCount(
      table.rows.filter((r) => r.p !== null && Number.isFinite(r.p)).length,
    );
    await screenshot(page, 'steward-jobs-manhattan-light');
    await result.getByRole('tab', { name: 'QQ plot' }).click();
    await expect(result.getByTestId('qq-plot')).toBeVisible();
    await screenshot(page, 'steward-jobs-qq-light');
    await result.getByRole('tab', { name: /Table/ }).click();
    const plink = result.getByRole('table', { name: 'Association results' });
    await expect(plink.locator('tbody tr')).toHaveCount(table.rows.length);
    await expect(plink.locator('thead')).toContainText('CHISQ');
    await screenshot(page, 'steward-jobs-table-light');

    // The derivative goes to a file chosen with the save picker.
    await result.getByRole('button', { name: 'Export derivative' }).click();
    const saveDir = await mkdtemp(path.join(os.tmpdir(), 'cos-steward-export-'));
    const picker = page.getByRole('dialog');
    await picker.getByRole('textbox', { name: 'Folder' }).fill(saveDir);
    await picker.getByRole('textbox', { name: 'Folder' }).press('Enter');
    await expect(picker.getByRole('textbox', { name: 'Folder' })).toHaveValue(saveDir);
    await picker.getByRole('button', { name: 'Save here' }).click();
    const exported = result.getByText('Derivative exported');
    await expect(exported).toBeVisible({ timeout: 30_000 });
    const exportedPath = path.join(saveDir, `result-permit-${permit.permitId}.json`);
    await expect(result.getByText(exportedPath)).toBeVisible();
    const derivative = JSON.parse(await readFile(exportedPath, 'utf8')) as unknown;
    expect(JSON.stringify(derivative)).toContain('gwas-allelic-chisq');

    // The grant's terms allow key switching: release the result to the lab's own key (issue 7).
    await result.getByRole('button', { name: 'Release to the lab' }).click();
    const releasePicker = page.getByRole('dialog');
    await releasePicker.getByRole('textbox', { name: 'Folder' }).fill(saveDir);
    await releasePicker.getByRole('textbox', { name: 'Folder' }).press('Enter');
    await expect(releasePicker.getByRole('textbox', { name: 'Folder' })).toHaveValue(saveDir);
    await releasePicker.getByRole('button', { name: 'Save here' }).click();
    await expect(result.getByText('Key-switched result released')).toBeVisible({ timeout: 60_000 });

    // The lab decrypts the bundle with its own key on the Result bundles page, then checks it on chain.
    await core.call('profiles.unlock', { profileId: lab.id });
    await page.reload();
    await page.locator('label', { hasText: 'Lab' }).click();
    await page.getByTestId('nav-lab-bundles').click();
    await page.getByRole('button', { name: 'Decrypt a bundle file' }).click();
    const openPicker = page.getByRole('dialog');
    await openPicker.getByRole('textbox', { name: 'Folder' }).fill(saveDir);
    await openPicker.getByRole('textbox', { name: 'Folder' }).press('Enter');
    await openPicker.getByRole('button', { name: `File result-permit-${permit.permitId}.cosbundle` }).click();
    const bundleRow = page.getByTestId(`bundle-${permit.permitId}`);
    await expect(bundleRow).toContainText('not checked yet', { timeout: 60_000 });
    await bundleRow.getByRole('button', { name: 'Verify on chain' }).click();
    await expect(bundleRow).toContainText('verified on chain', { timeout: 30_000 });
    await expect(page.getByTestId('manhattan-plot')).toBeVisible();
    await screenshot(page, 'lab-bundles-decrypted-light');
    const bundles = await core.call('bundles.list', {});
    const labTable = (bundles[0]!.result as { table: { rows: { chisq: number | null }[] } }).table;
    expect(labTable.rows.map((r) => r.chisq)).toEqual(
      (view.result as { table: { rows: { chisq: number | null }[] } }).table.rows.map((r) => r.chisq),
    );
    await core.call('profiles.unlock', { profileId: steward.id });
    await page.reload();
    await page.locator('label', { hasText: 'Steward' }).click();

    // 7. Grants with live counters, budgets, royalties.
    await page.getByTestId('nav-grants').click();
    const grantRow = page.getByTestId(`grant-${requested.grantId}`);
    await expect(grantRow.getByTestId('grant-runs')).toHaveText('1 / 5');
    await expect(grantRow.getByTestId('grant-state')).toHaveText('active');
    await screenshot(page, 'steward-grants-light');
    await page.getByTestId('nav-budgets').click();
    await expect(page.getByTestId(`budget-${requested.grantId}`)).toContainText('1 / 4');
    await screenshot(page, 'steward-budgets-light');
    await page.getByTestId('nav-royalties').click();
    await expect(page.getByTestId('claimable')).toHaveText(/COS$/);
    await screenshot(page, 'steward-royalties-light');

    // 8. The audit trail: every event, filterable, each row checked against the chain, exportable.
    await page.getByTestId('nav-audit').click();
    const audit = await core.call('audit.list', { offset: 0, limit: 1000 });
    await expect(page.getByTestId('audit-total')).toHaveText(`${audit.total.toLocaleString('en')} events`);
    // Type to narrow the list first: new chain events re-render the options while the page is live.
    await page.getByRole('combobox', { name: 'Events' }).fill('JobPermitIssued');
    await page.getByRole('option', { name: 'JobPermitIssued', exact: true }).click();
    await page.keyboard.press('Escape');
    // Other journeys may share this devnet (one app per Playwright worker): narrow to this grant too.
    await page.getByRole('textbox', { name: 'Grant' }).fill(String(requested.grantId));
    await expect(page.getByTestId('audit-total')).toHaveText('1 event');
    const auditTable = page.getByRole('table', { name: 'Audit events' });
    await auditTable
      .getByRole('button', { name: /Verify event/ })
      .first()
      .click();
    await expect(auditTable.getByTestId('verified')).toHaveCount(1, { timeout: 30_000 });
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await readFile(await (await download).path(), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('id,blockNumber,blockHash,txHash,logIndex,contract,name,datasetId,grantId,args');
    expect(csv.trim().split('\r\n')).toHaveLength(2);
    expect(csv).toContain('JobPermitIssued');
    await screenshot(page, 'steward-audit-light');

    // Dark theme.
    await page.getByRole('button', { name: /switch to dark theme/i }).click();
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
    await screenshot(page, 'steward-audit-dark');
    await page.getByTestId('nav-jobs').click();
    await page.getByRole('button', { name: `View the result of permit ${permit.permitId}` }).click();
    await expect(page.getByTestId('manhattan-plot')).toBeVisible();
    await screenshot(page, 'steward-jobs-dark');
    await page.getByRole('button', { name: /switch to light theme/i }).click();
  } finally {
    core.close();
  }
});
