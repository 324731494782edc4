import { readFileSync } from 'node:fs';
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

test('revocation: after the steward revokes, the lab’s next fetch fails within seconds with a clear error', async ({
  app,
  appPage: page,
}) => {
  test.setTimeout(300_000);
  core = await connectCore(app.url);
  await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);

  await createProfile(page, 'Revocation steward', 'steward');
  const { dataset } = await importTinyCohort(core);
  await createProfile(page, 'Revocation lab', 'lab');
  const { grantId } = await core.call('access.request', {
    datasetId: dataset.datasetId,
    opMask: 1 | 2,
    purposeCodes: '4',
    purposeText: 'Quality control of the encrypted genotype objects',
  });
  await unlockProfile(page, 'Revocation steward');
  await grantRequest(core, grantId);
  await unlockProfile(page, 'Revocation lab');

  // A READ ticket serves the manifest and an object.
  await openPage(page, 'lab-tickets');
  await page.getByLabel('Grant').selectOption(String(grantId));
  await page.getByRole('button', { name: 'Request ticket' }).click();
  const ticketRow = page.getByRole('table', { name: 'My tickets' }).locator('tbody tr').first();
  await expect(ticketRow).toContainText('READ');
  await ticketRow.getByRole('button', { name: 'Fetch manifest' }).click();
  await expect(page.getByTestId('saved-path')).toHaveCount(1);
  const manifestPath = (await page.getByTestId('saved-path').first().textContent()) ?? '';
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { objects: { digest: string }[] };
  await ticketRow.getByLabel('Object digest').fill(manifest.objects[0]!.digest);
  await ticketRow.getByRole('button', { name: 'Fetch object' }).click();
  await expect(page.getByTestId('saved-path')).toHaveCount(2);

  // The steward revokes.
  await unlockProfile(page, 'Revocation steward');
  await core.call('access.revoke', { grantId });
  const revokedAt = Date.now();
  await unlockProfile(page, 'Revocation lab');

  // The same live ticket no longer fetches: the gateway refuses, the UI says why.
  await openPage(page, 'lab-tickets');
  await expect(ticketRow).toContainText('READ');
  await ticketRow.getByLabel('Object digest').fill(manifest.objects[0]!.digest);
  const refused = page.getByRole('alert').filter({ hasText: 'The gateway refused the fetch' });
  await expect
    .poll(
      async () => {
        if ((await refused.count()) > 0) return true;
        await ticketRow.getByRole('button', { name: 'Fetch object' }).click();
        await page.waitForTimeout(1_000);
        return (await refused.count()) > 0;
      },
      { timeout: 20_000, intervals: [250] },
    )
    .toBe(true);
  const seconds = (Date.now() - revokedAt) / 1000;
  console.log(`revocation: fetch refused ${seconds.toFixed(1)} s after the revoke transaction`);
  expect(seconds).toBeLessThan(20);
  await expect(refused.first()).toContainText(/revoked|not granted|grant/i);
  await expect(ticketRow.getByTestId('fetch-error')).toContainText(/revoked/i);
  await expect(page.getByTestId('saved-path')).toHaveCount(2);
  await screenshot(page, 'revocation-fetch-refused');
  await openPage(page, 'lab-grants');
  await expect(page.getByTestId(`grant-${grantId}`)).toContainText('Revoked');
});
