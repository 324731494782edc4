/**
 * Renderer responsiveness with 100,000 audit rows (npm run bench:ui).
 *
 * Starts the launcher (devnet, contracts, gateway, orchestrator, browser host) with a throwaway data folder,
 * creates a steward profile through the host's WebSocket (the Audit page needs an unlocked profile), seeds
 * 100,000 well-formed rows into the app's SQLite cache (audit_events, the real chain id, fake but
 * well-formed block and transaction hashes, block numbers at or below the watcher's cursor so no reorg
 * logic touches them), opens the Audit page in Chromium, and measures:
 *   - time from the click on "Audit" to the first rendered rows,
 *   - frame times (requestAnimationFrame deltas) while scrolling with 200 wheel steps, p50/p95/max,
 *   - time to jump to the last row (offset 99,000 page fetched on demand),
 *   - rows in the DOM and the page's JS heap.
 * Needs the built renderer (npm run build) and a keychain (the npm script runs a throwaway one).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { chromium } from '@playwright/test';
import { connectCore, until } from '../e2e/support/core-client';
import { startLauncher } from '../e2e/support/launcher';

const ROWS = 100_000;
const WHEEL_STEPS = 200;
const WHEEL_PX = 600;
const CHAIN_ID = 31337;
const NAMES = ['Requested', 'Granted', 'Used', 'JobPermitIssued', 'JobResultPosted', 'Revoked'] as const;

function hash(text: string): string {
  return `0x${createHash('sha256').update(text).digest('hex')}`;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function seed(file: string): { seeded: number; ms: number } {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  const started = performance.now();
  const cursor = db.prepare('SELECT max(blockNumber) AS block FROM chain_cursor WHERE chainId = ?').get(CHAIN_ID) as {
    block: number | null;
  };
  const top = Math.max(1, cursor.block ?? 1);
  const insert = db.prepare(`INSERT INTO audit_events (chainId, blockNumber, blockHash, txHash, logIndex, contract,
    name, args, datasetId, grantId) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const run = db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const name = NAMES[i % NAMES.length]!;
      const grantId = 1000 + (i % 500);
      const datasetId = 100 + (i % 7);
      const args = { grantId: String(grantId), datasetId: String(datasetId), seq: i, sbtId: String(2000 + (i % 300)) };
      insert.run(
        CHAIN_ID,
        1 + (i % top),
        hash(`bench-block-${i}`),
        hash(`bench-tx-${i}`),
        0,
        'DataAccess',
        name,
        JSON.stringify(args),
        datasetId,
        grantId,
      );
    }
  });
  run.immediate();
  db.close();
  return { seeded: ROWS, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-bench-ui-'));
  const launcher = await startLauncher(dataDir);
  const browser = await chromium.launch({
    executablePath: process.env.COS_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const core = await connectCore(launcher.url);
    await core.call('profiles.create', { label: 'Bench steward', role: 'steward' });
    core.close();
    const file = path.join(dataDir, 'cache', `chain-${CHAIN_ID}.sqlite`);
    await until('the cache database', async () => existsSync(file));
    const seeded = seed(file);

    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(launcher.url);
    await page
      .getByTestId('chain-state')
      .filter({ hasText: /connected/i })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('active-profile').waitFor();

    // Time to first rows: the click on the navigation to the first row with content.
    const clicked = performance.now();
    await page.getByTestId('nav-audit').click();
    await page
      .locator('[role="row"][aria-rowindex="2"] [role="cell"]')
      .first()
      .filter({ hasNotText: 'Loading' })
      .waitFor();
    const firstRowsMs = performance.now() - clicked;
    const totalText = await page.getByTestId('audit-total').textContent();

    // Frame times while scrolling.
    // A string, not a function: tsx would wrap a named inner function with a helper the page does not have.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const box = (await page.getByTestId('audit-scroll').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const scrollStart = performance.now();
    for (let i = 0; i < WHEEL_STEPS; i++) {
      await page.mouse.wheel(0, WHEEL_PX);
      await page.waitForTimeout(16);
    }
    // Rows under the viewport are loaded (the pages fetched on demand arrived).
    await page
      .locator('[data-testid="audit-scroll"] [role="row"] [role="cell"]')
      .first()
      .filter({ hasNotText: 'Loading' })
      .waitFor();
    const scrollMs = performance.now() - scrollStart;
    const frames = await page.evaluate(() => {
      const w = globalThis as unknown as { __frames: number[]; __stop: boolean };
      w.__stop = true;
      return w.__frames.slice(1);
    });
    const scrollTop = await page.getByTestId('audit-scroll').evaluate((el) => el.scrollTop);

    // Jump to the end: the last page (offset 99,000) is fetched and shown.
    const jump = performance.now();
    await page.getByTestId('audit-scroll').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await page
      .locator(`[role="row"][aria-rowindex="${ROWS + 1}"] [role="cell"]`)
      .first()
      .filter({ hasNotText: 'Loading' })
      .waitFor();
    const jumpMs = performance.now() - jump;
    const domRows = await page.locator('[data-testid="audit-scroll"] [role="row"]').count();
    const heapMb = await page.evaluate(
      () => ((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0) / 2 ** 20,
    );

    const sorted = [...frames].sort((a, b) => a - b);
    const report = {
      rows: seeded.seeded,
      seedMs: Math.round(seeded.ms),
      shown: totalText,
      firstRowsMs: Math.round(firstRowsMs),
      wheelSteps: WHEEL_STEPS,
      scrolledPx: Math.round(scrollTop),
      scrollTotalMs: Math.round(scrollMs),
      frames: frames.length,
      frameP50Ms: Number(percentile(sorted, 0.5).toFixed(1)),
      frameP95Ms: Number(percentile(sorted, 0.95).toFixed(1)),
      frameMaxMs: Number((sorted.at(-1) ?? Number.NaN).toFixed(1)),
      framesOver50Ms: frames.filter((f) => f > 50).length,
      jumpToLastRowMs: Math.round(jumpMs),
      domRows,
      jsHeapMb: Number(heapMb.toFixed(1)),
      cpus: os.cpus().length,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await browser.close();
    const code = await launcher.interrupt();
    if (code !== 0) console.error(`launcher exited with ${code}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
