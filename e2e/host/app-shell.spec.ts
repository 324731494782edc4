import { expect, screenshot, test } from '../support/fixtures';

test('the status bar follows the real devnet: connected, chain 31337, block advancing', async ({ appPage: page }) => {
  await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);
  await expect(page.getByTestId('chain-id')).toHaveText('31337');
  const first = Number(await page.getByTestId('block-number').textContent());
  expect(first).toBeGreaterThanOrEqual(1);
  // The devnet mines a block a second; the core pushes each one to the page.
  await expect
    .poll(async () => Number(await page.getByTestId('block-number').textContent()), { timeout: 15_000 })
    .toBeGreaterThan(first + 1);
});

test('gateway and orchestrator report healthy and the deployed contracts are listed', async ({ appPage: page }) => {
  await expect(page.getByTestId('service-gateway')).toHaveAttribute('data-healthy', 'true');
  await expect(page.getByTestId('service-orchestrator')).toHaveAttribute('data-healthy', 'true');
  const rows = page.getByRole('table', { name: 'Deployed contracts' }).locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThanOrEqual(5);
  await expect(rows.first().locator('code')).toHaveText(/^0x[0-9a-fA-F]{40}$/);
});

test('the three workspaces open, in light and dark themes', async ({ appPage: page }) => {
  await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);
  for (const [workspace, heading] of [
    ['Steward', 'Steward workspace'],
    ['Donor', 'Donor workspace'],
    ['Lab', 'Lab workspace'],
  ] as const) {
    await page.locator('label', { hasText: workspace }).click();
    await expect(page.getByRole('radio', { name: workspace })).toBeChecked();
    await expect(page.getByRole('heading', { level: 2 })).toHaveText(heading);
    await screenshot(page, `shell-${workspace.toLowerCase()}-light`);
  }
  await page.getByRole('button', { name: /switch to dark theme/i }).click();
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await screenshot(page, 'shell-lab-dark');
});

test('the token leaves the address bar once read', async ({ appPage: page }) => {
  await expect(page.getByTestId('chain-state')).toHaveText(/connected/i);
  expect(page.url()).not.toContain('token=');
});

test('without the launch token the page cannot reach the core', async ({ app, page }) => {
  const origin = new URL(app.url).origin;
  await page.goto(`${origin}/`);
  await expect(page.getByRole('alert')).toContainText('Not connected');
  await expect(page.getByTestId('chain-state')).toHaveCount(0);
});
