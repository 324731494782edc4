/**
 * Reorgs on a real anvil: anvil_reorg replaces the last blocks with other transactions at the same height, and
 * evm_snapshot/evm_revert plus different transactions gives a longer fork. The watcher must drop the orphaned
 * events, recompute the projections and apply the canonical events exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { id } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identitySbtInterface, ROLE } from '../../../shared/contracts';
import { openDatabase, type SqliteDatabase } from '../db';
import { ChainWatcher, type WatcherReorg } from './watcher';
import { type AccountName, type DevChain, chainLogs, headBlock, mined, startDevChain } from './watcher-fixture';

let chain: DevChain;
let dir: string;
let db: SqliteDatabase;
let watcher: ChainWatcher;
let reorgs: WatcherReorg[];

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cos-watcher-reorg-'));
  chain = await startDevChain();
  reorgs = [];
});

afterEach(async () => {
  await watcher?.stop();
  db?.close();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startWatcher(reorgWindow: number) {
  db = openDatabase(path.join(dir, 'cache.sqlite')).db;
  watcher = new ChainWatcher({
    db,
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.chainId,
    contracts: chain.contracts,
    startBlock: chain.startBlock,
    reorgWindow,
    batchSize: 10,
    onReorg: (reorg) => reorgs.push(reorg),
  });
}

async function expectCanonical(): Promise<void> {
  const onChain = await chainLogs(chain, Object.values(chain.contracts), chain.startBlock);
  const audit = db.prepare('SELECT blockHash, logIndex FROM audit_events').all() as {
    blockHash: string;
    logIndex: number;
  }[];
  expect(audit).toHaveLength(onChain.length);
  expect(audit.map((row) => `${row.blockHash}:${row.logIndex}`).sort()).toEqual(
    onChain.map((log) => `${log.blockHash}:${log.logIndex}`).sort(),
  );
  // The profiles are the chain's: each sbtId held by the account the contract names.
  const profiles = db.prepare('SELECT sbtId, address FROM profiles WHERE burned = 0').all() as {
    sbtId: number;
    address: string;
  }[];
  for (const profile of profiles) {
    expect(await chain.as('deployer').IdentitySBT.sbtOf(profile.address), profile.address).toBe(BigInt(profile.sbtId));
  }
}

const registerCall = (name: AccountName, roles: number) =>
  chain.signers[name].getAddress().then((from) => ({
    from,
    to: chain.contracts.IdentitySBT,
    data: identitySbtInterface.encodeFunctionData('register', [roles]),
    gas: '0x100000',
  }));

describe('ChainWatcher through reorgs', () => {
  it('anvil_reorg: drops the orphaned blocks’ events and applies the replacing ones once', async () => {
    startWatcher(16);
    await mined(chain.as('lab').IdentitySBT.register(ROLE.LAB));
    await watcher.syncOnce();
    const forkBlock = await headBlock(chain);
    await mined(chain.as('donorA').IdentitySBT.register(ROLE.DONOR));
    await mined(chain.as('donorB').IdentitySBT.register(ROLE.DONOR));
    await mined(chain.as('donorB').IdentitySBT.publishFheKey(id('donor B key')));
    await watcher.syncOnce();
    const donorA = await chain.signers.donorA.getAddress();
    const orphanedSbt = db.prepare('SELECT sbtId FROM profiles WHERE address = ?').pluck().get(donorA) as number;
    expect(orphanedSbt).toBe(4);
    const orphanedHashes = db
      .prepare('SELECT DISTINCT blockHash FROM audit_events WHERE blockNumber > ?')
      .pluck()
      .all(forkBlock);
    expect(orphanedHashes).toHaveLength(3);

    // Replace the last 3 blocks: the steward and the treasury register instead, so sbtIds 4 and 5 change hands.
    await chain.rpc('anvil_reorg', [
      3,
      [
        [await registerCall('steward', ROLE.STEWARD), 0],
        [await registerCall('treasury', ROLE.DONOR), 2],
      ],
    ]);
    expect(await headBlock(chain)).toBe(forkBlock + 3);
    const report = await watcher.syncOnce();

    expect(report.reorgs).toBe(1);
    expect(reorgs).toHaveLength(1);
    expect(reorgs[0]).toMatchObject({ forkBlock, previousBlock: forkBlock + 3 });
    expect(reorgs[0]!.orphaned.map((event) => event.name)).toEqual([
      'Transfer',
      'Locked',
      'Issued',
      'RolesAttested',
      'Transfer',
      'Locked',
      'Issued',
      'RolesAttested',
      'FheKeyPublished',
    ]);
    const placeholders = orphanedHashes.map(() => '?').join(', ');
    expect(
      db
        .prepare(`SELECT COUNT(*) FROM audit_events WHERE blockHash IN (${placeholders})`)
        .pluck()
        .get(...orphanedHashes),
    ).toBe(0);
    await expectCanonical();
    const steward = await chain.signers.steward.getAddress();
    expect(db.prepare('SELECT sbtId, roles FROM profiles WHERE address = ?').get(steward)).toEqual({
      sbtId: 4,
      roles: ROLE.STEWARD,
    });
    expect(db.prepare('SELECT COUNT(*) FROM profiles WHERE address = ?').pluck().get(donorA)).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM profiles WHERE fheKeyFingerprint IS NOT NULL').pluck().get()).toBe(0);

    // Syncing again changes nothing: the canonical events are in once.
    const again = await watcher.syncOnce();
    expect(again).toMatchObject({ applied: 0, reorgs: 0 });
    await expectCanonical();
  });

  it('evm_revert to a snapshot then a longer fork: finds the fork below its recent-hash window', async () => {
    // A window of 2 recent hashes: the fork point is found among the blocks known from stored events.
    startWatcher(2);
    await mined(chain.as('lab').IdentitySBT.register(ROLE.LAB));
    await watcher.syncOnce();
    const snapshot = await chain.rpc<string>('evm_snapshot');
    const forkBlock = await headBlock(chain);
    for (const name of ['donorA', 'donorB', 'steward', 'treasury'] as const) {
      await mined(chain.as(name).IdentitySBT.register(ROLE.DONOR));
    }
    await watcher.syncOnce();
    expect(db.prepare('SELECT COUNT(*) FROM profiles').pluck().get()).toBe(7);

    expect(await chain.rpc('evm_revert', [snapshot])).toBe(true);
    // The fork: other accounts, one more block than the orphaned branch.
    await mined(chain.as('treasury').IdentitySBT.register(ROLE.LAB));
    await chain.rpc('anvil_mine', ['0x3']);
    await mined(chain.as('steward').IdentitySBT.register(ROLE.STEWARD));
    expect(await headBlock(chain)).toBe(forkBlock + 5);
    const report = await watcher.syncOnce();

    expect(report.reorgs).toBe(1);
    expect(reorgs[0]!.forkBlock).toBe(forkBlock);
    expect(reorgs[0]!.orphaned.filter((event) => event.name === 'Issued')).toHaveLength(4);
    await expectCanonical();
    expect(db.prepare('SELECT COUNT(*) FROM profiles').pluck().get()).toBe(5);
    const treasury = await chain.signers.treasury.getAddress();
    expect(db.prepare('SELECT sbtId, roles FROM profiles WHERE address = ?').get(treasury)).toEqual({
      sbtId: 4,
      roles: ROLE.LAB,
    });
  });

  it('a reorg shallower than the confirmations never reaches the cache', async () => {
    db = openDatabase(path.join(dir, 'confirmed.sqlite')).db;
    watcher = new ChainWatcher({
      db,
      rpcUrl: chain.anvil.rpcUrl,
      chainId: chain.chainId,
      contracts: chain.contracts,
      startBlock: chain.startBlock,
      confirmations: 4,
      onReorg: (reorg) => reorgs.push(reorg),
    });
    await mined(chain.as('lab').IdentitySBT.register(ROLE.LAB));
    await chain.rpc('anvil_mine', ['0x4']);
    await watcher.syncOnce();
    await mined(chain.as('donorA').IdentitySBT.register(ROLE.DONOR));
    await mined(chain.as('donorB').IdentitySBT.register(ROLE.DONOR));
    await watcher.syncOnce();
    await chain.rpc('anvil_reorg', [2, [[await registerCall('steward', ROLE.STEWARD), 0]]]);
    await chain.rpc('anvil_mine', ['0x4']);
    await watcher.syncOnce();
    expect(reorgs).toHaveLength(0);
    await expectCanonical();
  });
});
