/**
 * kill -9 in the middle of a backfill: a child process runs the watcher over a database file and is SIGKILLed at
 * several points; fresh children resume from the cursor. In the end every chain event is in audit_events exactly
 * once (same count and same (blockHash, logIndex) set as eth_getLogs) and the projections counted each use once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db';
import { type DevChain, chainLogs, headBlock, openUsageGrant, recordUses, startDevChain } from './watcher-fixture';

const USES = 3_000;
let chain: DevChain;
let dir: string;
let grantId: bigint;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cos-watcher-kill-'));
  chain = await startDevChain();
  grantId = await openUsageGrant(chain, USES);
  // 150 blocks of 20 Used events each (automine: one block per transaction).
  await recordUses(chain, grantId, USES, 20);
});

afterAll(async () => {
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function runWatcher(file: string): {
  child: ChildProcess;
  lines: AsyncIterableIterator<string>;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join('electron', 'main', 'chain', 'watcher-process.ts'),
      '--db',
      file,
      '--rpc',
      chain.anvil.rpcUrl,
      '--chain-id',
      String(chain.chainId),
      '--start-block',
      String(chain.startBlock),
      '--contracts',
      JSON.stringify(chain.contracts),
      '--batch-size',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines, exited };
}

describe('ChainWatcher killed with SIGKILL mid-backfill', () => {
  it('applies every chain event exactly once after several kills and resumes', async () => {
    const file = path.join(dir, 'killed.sqlite');
    const cursors: number[] = [];
    // Kill after a few committed batches, a few milliseconds later each time so the kill lands anywhere in the
    // next batch: fetching, decoding or inside its transaction.
    for (const [killAfter, delayMs] of [
      [2, 0],
      [3, 2],
      [4, 5],
      [2, 9],
    ] as const) {
      const { child, lines, exited } = runWatcher(file);
      let batches = 0;
      for await (const line of lines) {
        const message = JSON.parse(line) as { type: string; batchEvents?: number; cursorBlock?: number };
        if (message.type === 'progress' && message.batchEvents !== undefined) batches += 1;
        if (batches >= killAfter) break;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      await exited;
      expect(child.signalCode, `killed after ${batches} batches`).toBe('SIGKILL');

      const { db } = openDatabase(file);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const cursor = db.prepare('SELECT blockNumber FROM chain_cursor').pluck().get() as number;
      // Whatever the cursor covers is in audit_events, and nothing beyond it.
      expect(db.prepare('SELECT COUNT(*) FROM audit_events WHERE blockNumber > ?').pluck().get(cursor)).toBe(0);
      const expected = await chainLogs(chain, Object.values(chain.contracts), chain.startBlock, cursor);
      expect(db.prepare('SELECT COUNT(*) FROM audit_events').pluck().get()).toBe(expected.length);
      db.close();
      // Killed mid-backfill: the chain goes on past the cursor.
      expect(cursor).toBeLessThan(await headBlock(chain));
      cursors.push(cursor);
    }
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(cursors[0]).toBeLessThan(cursors[3]!);

    const { lines, exited } = runWatcher(file);
    const messages: { type: string; applied?: number }[] = [];
    for await (const line of lines) messages.push(JSON.parse(line) as never);
    expect(await exited).toBe(0);
    expect(messages.at(-1)).toMatchObject({ type: 'done' });

    const { db } = openDatabase(file);
    const audit = db.prepare('SELECT blockHash, logIndex FROM audit_events').all() as {
      blockHash: string;
      logIndex: number;
    }[];
    const onChain = await chainLogs(chain, Object.values(chain.contracts), chain.startBlock);
    expect(audit).toHaveLength(onChain.length);
    expect(audit.map((row) => `${row.blockHash}:${row.logIndex}`).sort()).toEqual(
      onChain.map((log) => `${log.blockHash}:${log.logIndex}`).sort(),
    );
    expect(db.prepare("SELECT COUNT(*) FROM audit_events WHERE name = 'Used'").pluck().get()).toBe(USES);
    // Each Used was projected once: the counter equals the uses, and the run index reached the last one.
    expect(db.prepare('SELECT useCount, runsUsed FROM grants WHERE grantId = ?').get(Number(grantId))).toEqual({
      useCount: USES,
      runsUsed: USES,
    });
    db.close();
  });
});
