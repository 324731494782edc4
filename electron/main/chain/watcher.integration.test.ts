/**
 * The chain watcher against a real anvil with the contracts deployed and real transactions: backfill then follow,
 * projections equal to the contracts' own views, restart from the cursor, confirmations, refused logs, batch
 * shrinking behind a node that limits eth_getLogs, and rebuilding the cache from the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { id } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dataAccessInterface, COS_CONTRACT_NAMES, OP } from '../../../shared/contracts';
import { openDatabase, PROJECTION_TABLES, donorClaimable, type ChainEventRecord, type SqliteDatabase } from '../db';
import { ChainWatcher, type ChainWatcherOptions, type WatcherProgress } from './watcher';
import { type RejectedLogError, isWatcherError } from './watcher-errors';
import {
  type DevChain,
  SBT,
  chainLogs,
  headBlock,
  deployLogEmitter,
  mined,
  openUsageGrant,
  recordUses,
  runGrantFlow,
  startDevChain,
} from './watcher-fixture';

let chain: DevChain;
let dir: string;
const open: { db: SqliteDatabase; watcher: ChainWatcher }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cos-watcher-'));
  chain = await startDevChain();
  await runGrantFlow(chain);
});

afterAll(async () => {
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const { db, watcher } of open.splice(0)) {
    await watcher.stop();
    db.close();
  }
});

let files = 0;
function watcherOn(file: string | null, overrides: Partial<ChainWatcherOptions> = {}) {
  const { db } = openDatabase(file ?? path.join(dir, `cache-${++files}.sqlite`));
  const watcher = new ChainWatcher({
    db,
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.chainId,
    contracts: chain.contracts,
    startBlock: chain.startBlock,
    pollIntervalMs: 50,
    ...overrides,
  });
  open.push({ db, watcher });
  return { db, watcher };
}

function auditKeys(db: SqliteDatabase): string[] {
  return (db.prepare('SELECT blockHash, logIndex FROM audit_events').all() as { blockHash: string; logIndex: number }[])
    .map((row) => `${row.blockHash}:${row.logIndex}`)
    .sort();
}

async function chainKeys(toBlock: number | 'latest' = 'latest'): Promise<string[]> {
  const logs = await chainLogs(chain, Object.values(chain.contracts), chain.startBlock, toBlock);
  return logs.map((log) => `${log.blockHash}:${log.logIndex}`).sort();
}

function snapshot(db: SqliteDatabase): Record<string, unknown[]> {
  return Object.fromEntries(PROJECTION_TABLES.map((table) => [table, db.prepare(`SELECT * FROM ${table}`).all()]));
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('ChainWatcher on a real anvil', () => {
  it('backfills the deployment, applies every event once and projects what the contracts report', async () => {
    const progress: WatcherProgress[] = [];
    const events: ChainEventRecord[] = [];
    const { db, watcher } = watcherOn(null, {
      batchSize: 7,
      reorgWindow: 4,
      onProgress: (p) => progress.push(p),
      onEvent: (e) => events.push(e),
    });
    expect(watcher.status()).toMatchObject({
      phase: 'backfill',
      headBlock: -1,
      confirmedBlock: -1,
      cursorBlock: chain.startBlock - 1,
      lastEventBlock: null,
      lastEventAt: null,
    });
    const syncStarted = Date.now();
    const report = await watcher.syncOnce();
    const head = await headBlock(chain);
    expect(report.cursorBlock).toBe(head);
    expect(report.batches).toBeGreaterThan(3);
    const status = watcher.status();
    expect(status).toEqual(progress.at(-1));
    expect(status).toMatchObject({
      phase: 'live',
      startBlock: chain.startBlock,
      headBlock: head,
      confirmedBlock: head,
      cursorBlock: head,
      totalEvents: events.length,
      lastEventBlock: events.at(-1)!.blockNumber,
    });
    expect(status.lastEventAt).toBeGreaterThanOrEqual(syncStarted);
    expect(status.lastEventAt).toBeLessThanOrEqual(Date.now());
    expect(auditKeys(db)).toEqual(await chainKeys());
    expect(events).toHaveLength(auditKeys(db).length);
    expect(progress.at(-1)).toMatchObject({ phase: 'live', cursorBlock: head, confirmedBlock: head, headBlock: head });
    expect(progress.some((p) => p.phase === 'backfill')).toBe(true);

    const c = chain.as('deployer');
    const grant = await c.DataAccess.getGrant(1);
    const row = db.prepare('SELECT * FROM grants WHERE grantId = 1').get() as Record<string, unknown>;
    expect(row).toMatchObject({
      status: 'Revoked',
      datasetId: 1,
      granteeSbtId: Number(SBT.lab),
      runsUsed: Number(grant.runsUsed),
      paidRuns: Number(grant.paidRuns),
      epsilonSpent: Number(grant.epsilonSpent),
      deltaSpent: grant.deltaSpent.toString(),
      maxRuns: 5,
      feePerUse: grant.feePerUse.toString(),
      termsHash: grant.termsHash,
      purposeHash: grant.purposeHash,
      useCount: 1,
      jobPermitCount: 1,
    });
    expect(db.prepare('SELECT status FROM requests WHERE grantId = 1').pluck().get()).toBe('Granted');
    expect(db.prepare('SELECT * FROM job_results WHERE permitId = 1').get()).toMatchObject({
      resultCommitment: id('encrypted result'),
      resultURI: 'cos://gateway/results/1',
      orchestratorSbtId: Number(SBT.orchestrator),
    });
    expect(db.prepare('SELECT status FROM job_permits WHERE permitId = 1').pluck().get()).toBe('ResultPosted');
    expect(db.prepare('SELECT COUNT(*) FROM key_switches').pluck().get()).toBe(1);
    expect(db.prepare('SELECT roles, fheKeyFingerprint FROM profiles WHERE sbtId = ?').get(SBT.lab)).toEqual({
      roles: 4,
      fheKeyFingerprint: id('lab public key'),
    });
    expect(db.prepare('SELECT withdrawnCount FROM datasets WHERE datasetId = 1').pluck().get()).toBe(1);

    // Every account's claimable balance and each donor's royalty equal the Settlement contract's own figures.
    const accounts = await Promise.all(
      (['steward', 'lab', 'treasury', 'deployer'] as const).map((name) => chain.signers[name].getAddress()),
    );
    for (const account of accounts) {
      const claimable = db.prepare('SELECT claimable FROM balances WHERE account = ?').pluck().get(account) ?? '0';
      expect(claimable, account).toBe((await c.Settlement.claimable(account)).toString());
    }
    for (const donor of [SBT.donorA, SBT.donorB]) {
      expect(donorClaimable(db, 1, Number(donor))).toBe(await c.Settlement.donorClaimable(1, donor));
    }
    expect(donorClaimable(db, 1, Number(SBT.donorA))).toBeGreaterThan(0n);
    const treasury = await chain.signers.treasury.getAddress();
    // The treasury was named in the constructor (no event): its fees are attributed when it claims them.
    expect(db.prepare('SELECT platformFees, claimed FROM balances WHERE account = ?').get(treasury)).toEqual({
      platformFees: (4n * 10n ** 17n).toString(),
      claimed: (4n * 10n ** 17n).toString(),
    });

    // Following: a new block is applied by the polling loop.
    watcher.start();
    const before = events.length;
    await mined(chain.as('donorB').IdentitySBT.publishFheKey(id('donor B key')));
    await until(() => events.length > before, 'the followed event');
    expect(events.at(-1)).toMatchObject({ contract: 'IdentitySBT', name: 'FheKeyPublished' });
    expect(db.prepare('SELECT fheKeyFingerprint FROM profiles WHERE sbtId = ?').pluck().get(SBT.donorB)).toBe(
      id('donor B key'),
    );
    expect(auditKeys(db)).toEqual(await chainKeys());
  });

  it('resumes from its cursor after a restart without applying anything twice', async () => {
    const file = path.join(dir, 'restart.sqlite');
    const first = watcherOn(file, { batchSize: 5 });
    const firstReport = await first.watcher.syncOnce();
    const cursorBefore = first.watcher.store.cursor();
    await first.watcher.stop();
    first.db.close();
    open.length = 0;

    const grantId = await openUsageGrant(chain, 1_000);
    await recordUses(chain, grantId, 120, 40);
    const applied: ChainEventRecord[] = [];
    const second = watcherOn(file, { batchSize: 5, onEvent: (event) => applied.push(event) });
    expect(second.watcher.store.cursor()).toEqual(cursorBefore);
    const report = await second.watcher.syncOnce();
    expect(firstReport.applied).toBeGreaterThan(0);
    expect(applied.every((event) => event.blockNumber > cursorBefore.blockNumber)).toBe(true);
    expect(applied.filter((event) => event.name === 'Used')).toHaveLength(120);
    expect(report.applied).toBe(applied.length);
    expect(auditKeys(second.db)).toEqual(await chainKeys());
    expect(second.db.prepare('SELECT runsUsed, useCount FROM grants WHERE grantId = ?').get(grantId)).toEqual({
      runsUsed: 120,
      useCount: 120,
    });
    // A third run over the same file finds nothing new.
    const again = await second.watcher.syncOnce();
    expect(again.applied).toBe(0);
  });

  it('holds back the last N blocks until they have N confirmations', async () => {
    const { db, watcher } = watcherOn(null, { confirmations: 3 });
    await watcher.syncOnce();
    const head = await headBlock(chain);
    expect(watcher.store.cursor().blockNumber).toBe(head - 3);
    expect(auditKeys(db)).toEqual(await chainKeys(head - 3));
    expect(
      db
        .prepare('SELECT COUNT(*) FROM audit_events WHERE blockNumber > ?')
        .pluck()
        .get(head - 3),
    ).toBe(0);

    await chain.rpc('anvil_mine', ['0x2']);
    await watcher.syncOnce();
    expect(watcher.store.cursor().blockNumber).toBe(head - 1);
    await chain.rpc('anvil_mine', ['0x1']);
    await watcher.syncOnce();
    expect(watcher.store.cursor().blockNumber).toBe(head);
    expect(auditKeys(db)).toEqual(await chainKeys(head));
  });

  it('refuses logs at its addresses that are no event of the contract, and they change nothing', async () => {
    // The watcher takes a log emitter for DataAccess: one log with a topic no ABI has, one with Used's topic but
    // none of its indexed arguments or data.
    const unknown = await deployLogEmitter(chain, id('cos.test: not an event'));
    const contracts = { ...chain.contracts, DataAccess: unknown };
    const rejected: RejectedLogError[] = [];
    const { db, watcher } = watcherOn(null, { contracts, onRejected: (error) => rejected.push(error) });
    await watcher.syncOnce();
    const audit = auditKeys(db);
    const projections = snapshot(db);
    const eventsBefore = db.prepare('SELECT COUNT(*) FROM audit_events').pluck().get();

    await mined(chain.signers.lab.sendTransaction({ to: unknown, data: '0x' }));
    await mined(chain.signers.lab.sendTransaction({ to: unknown, data: '0x01' }));
    const report = await watcher.syncOnce();
    expect(report.rejected).toBe(2);
    expect(rejected).toHaveLength(2);
    expect(rejected.every((error) => isWatcherError(error, 'LOG_REJECTED') && error.reason === 'UNKNOWN_EVENT')).toBe(
      true,
    );
    expect(rejected[0]!.log.address).toBe(unknown.toLowerCase());
    expect(db.prepare('SELECT COUNT(*) FROM audit_events').pluck().get()).toBe(eventsBefore);
    expect(auditKeys(db)).toEqual(audit);
    expect(snapshot(db)).toEqual(projections);
    expect(db.prepare('SELECT reason, address FROM rejected_logs').all()).toEqual([
      { reason: 'UNKNOWN_EVENT', address: unknown.toLowerCase() },
      { reason: 'UNKNOWN_EVENT', address: unknown.toLowerCase() },
    ]);

    const malformed = await deployLogEmitter(chain, dataAccessInterface.getEvent('Used')!.topicHash);
    const second = watcherOn(null, { contracts: { ...chain.contracts, DataAccess: malformed } });
    await second.watcher.syncOnce();
    const projectionsBefore = snapshot(second.db);
    await mined(chain.signers.lab.sendTransaction({ to: malformed, data: '0x' }));
    const secondReport = await second.watcher.syncOnce();
    expect(secondReport).toMatchObject({ applied: 0, rejected: 1 });
    expect(second.db.prepare('SELECT reason FROM rejected_logs').pluck().all()).toEqual(['MALFORMED_EVENT']);
    expect(snapshot(second.db)).toEqual(projectionsBefore);
  });

  it('halves its batch when the node answers "too many results", and still applies everything', async () => {
    // A node that, like hosted providers, refuses eth_getLogs over more than 4 blocks (anvil behind a proxy).
    const proxy: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', async () => {
        const calls = JSON.parse(body) as
          | { id: number; method: string; params: { fromBlock: string; toBlock: string }[] }[]
          | { id: number; method: string; params: { fromBlock: string; toBlock: string }[] };
        const list = Array.isArray(calls) ? calls : [calls];
        const replies = await Promise.all(
          list.map(async (call) => {
            if (call.method === 'eth_getLogs') {
              const [filter] = call.params;
              if (Number(filter!.toBlock) - Number(filter!.fromBlock) + 1 > 4) {
                return {
                  jsonrpc: '2.0',
                  id: call.id,
                  error: { code: -32005, message: 'query returned more than 10000 results' },
                };
              }
            }
            const upstream = await fetch(chain.anvil.rpcUrl, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(call),
            });
            return upstream.json();
          }),
        );
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(Array.isArray(calls) ? replies : replies[0]));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const { db, watcher } = watcherOn(null, { rpcUrl: `http://127.0.0.1:${port}`, batchSize: 64, reorgWindow: 2 });
      await watcher.syncOnce();
      expect(watcher.currentBatchSize()).toBe(4);
      expect(auditKeys(db)).toEqual(await chainKeys());
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('rebuilds the cache from the chain with the same projections', async () => {
    const { db, watcher } = watcherOn(null, { batchSize: 50 });
    await watcher.syncOnce();
    const before = snapshot(db);
    const audit = auditKeys(db);
    db.prepare("UPDATE grants SET runsUsed = 999, status = 'Revoked'").run();
    const report = await watcher.rebuildFromChain();
    expect(report.applied).toBe(audit.length);
    expect(auditKeys(db)).toEqual(audit);
    expect(snapshot(db)).toEqual(before);
  });

  it('refuses a node on another chain and a database of another deployment', async () => {
    const { watcher } = watcherOn(null, { chainId: 1 });
    await expect(watcher.syncOnce()).rejects.toMatchObject({ watcherCode: 'CHAIN_MISMATCH' });

    const file = path.join(dir, 'deployment.sqlite');
    const first = watcherOn(file);
    await first.watcher.syncOnce();
    const otherContracts = Object.fromEntries(
      COS_CONTRACT_NAMES.map((name) => [
        name,
        name === 'CosToken' ? chain.contracts.Settlement : chain.contracts[name],
      ]),
    ) as typeof chain.contracts;
    const second = watcherOn(file, { contracts: otherContracts });
    await expect(second.watcher.syncOnce()).rejects.toMatchObject({ watcherCode: 'DEPLOYMENT_MISMATCH' });
  });
});

describe('ChainWatcher on dense blocks', () => {
  it('sizes batches by log density and fetches the next batch while applying one, each event once', async () => {
    const progress: WatcherProgress[] = [];
    const first = watcherOn(null, { reorgWindow: 4, targetBatchLogs: 150, onProgress: (p) => progress.push(p) });
    await first.watcher.syncOnce();
    const grantId = await openUsageGrant(chain);
    const gateway = chain.as('gateway').DataAccess;
    // 12 blocks of 100 Used events each (one transaction per block).
    for (let tx = 0; tx < 12; tx++) {
      const uses = Array.from({ length: 100 }, (_, i) => ({
        grantId,
        op: OP.READ,
        ticketCommitment: id(`dense ticket ${tx} ${i}`),
        objectDigest: id(`dense object ${tx} ${i}`),
      }));
      await mined(gateway.recordUses(uses, { gasLimit: 6_000_000 }));
    }
    progress.length = 0;
    // One watcher already caught up before the dense blocks, one backfilling everything from scratch.
    const second = watcherOn(null, { reorgWindow: 4, targetBatchLogs: 150 });
    for (const { db, watcher } of [first, second]) {
      const report = await watcher.syncOnce();
      expect(report.cursorBlock).toBe(await headBlock(chain));
      expect(auditKeys(db)).toEqual(await chainKeys());
      const uses = db
        .prepare("SELECT count(*) FROM audit_events WHERE name = 'Used' AND grantId = ?")
        .pluck()
        .get(Number(grantId));
      expect(uses).toBe(1_200);
      expect(db.prepare('SELECT useCount FROM grants WHERE grantId = ?').get(Number(grantId))).toEqual({
        useCount: 1_200,
      });
    }
    // The first batch after the dense blocks appeared knew no density yet (up to head - reorgWindow: 800 events and
    // more); each later one is sized from the previous one's events per block, so it holds about targetBatchLogs
    // (within the spread of that average: here one or two 100-event blocks).
    const batches = progress.filter((p) => p.batchEvents > 0).map((p) => p.batchEvents);
    expect(batches[0]).toBeGreaterThanOrEqual(800);
    expect(batches.length).toBeGreaterThanOrEqual(4);
    expect(batches.slice(1).every((events) => events <= 2 * 150)).toBe(true);
    expect(batches.reduce((sum, events) => sum + events, 0)).toBeGreaterThanOrEqual(1_200);
  });
});
