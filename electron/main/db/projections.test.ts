import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CosContractName } from '../../../shared/contracts';
import { type ChainEventRecord, type JsonValue, toJsonValue } from './chain-events';
import { ChainStore } from './chain-store';
import { isDatabaseError } from './errors';
import { migrate, type SqliteDatabase } from './migrate';
import { MIGRATIONS } from './migrations';
import { donorClaimable, PROJECTION_TABLES, rebuildProjections } from './projections';
import { tempDatabase } from './test-db';

const ZERO = '0x0000000000000000000000000000000000000000';
const STEWARD = '0x00000000000000000000000000000000000000A1';
const LAB = '0x00000000000000000000000000000000000000B2';
const DONOR_A = '0x00000000000000000000000000000000000000C3';
const DONOR_B = '0x00000000000000000000000000000000000000D4';
const TREASURY = '0x00000000000000000000000000000000000000E5';
const COS = 10n ** 18n;

/** A grant's life in events, block by block (the shapes the bindings decode), with bigints as on the chain. */
function history(): ChainEventRecord[][] {
  let logIndex = 0;
  const blocks: [CosContractName, string, Record<string, unknown>][][] = [
    [
      ['IdentitySBT', 'Transfer', { from: ZERO, to: STEWARD, tokenId: 1n }],
      ['IdentitySBT', 'Issued', { from: TREASURY, to: STEWARD, tokenId: 1n, burnAuth: 2n }],
      ['IdentitySBT', 'RolesAttested', { sbtId: 1n, roles: 1n }],
      ['IdentitySBT', 'Transfer', { from: ZERO, to: LAB, tokenId: 2n }],
      ['IdentitySBT', 'RolesAttested', { sbtId: 2n, roles: 4n }],
      ['IdentitySBT', 'Transfer', { from: ZERO, to: DONOR_A, tokenId: 3n }],
      ['IdentitySBT', 'Transfer', { from: ZERO, to: DONOR_B, tokenId: 4n }],
    ],
    [
      [
        'DatasetRegistry',
        'DatasetRegistered',
        {
          datasetId: 1n,
          owner: STEWARD,
          manifestCommitment: '0xm1',
          fheParamsHash: '0xparams',
          fheKeyFingerprint: '0xkey',
          consentCodes: 6n,
          consentRoot: '0xroot',
          donorCount: 2n,
          resourceURI: 'cos://gateway/datasets/1',
        },
      ],
      ['DatasetRegistry', 'DatasetRoyaltySet', { datasetId: 1n, receiver: STEWARD, royaltyBps: 6000n }],
      ['IdentitySBT', 'FheKeyPublished', { sbtId: 2n, fingerprint: '0xlabkey' }],
      [
        'IdentitySBT',
        'RegionAttested',
        { sbtId: 2n, regionCode: '0x4348', validUntil: 99n, attestedAt: 9n, oracle: TREASURY },
      ],
    ],
    [
      [
        'DataAccess',
        'Requested',
        {
          grantId: 1n,
          datasetId: 1n,
          granteeSbtId: 2n,
          requester: LAB,
          opMask: 9n,
          purposeHash: '0xpurpose',
          purposeCodes: 6n,
        },
      ],
      [
        'DataAccess',
        'Granted',
        {
          grantId: 1n,
          datasetId: 1n,
          granteeSbtId: 2n,
          terms: {
            opMask: 9n,
            notBefore: 10n,
            expiry: 1000n,
            maxRuns: 5n,
            rateWindow: 3600n,
            rateMaxRuns: 4n,
            regionCode: '0x4348',
            epsilonCap: 3_000_000n,
            deltaCap: 10n ** 12n,
            termsHash: '0xterms',
            keySwitchAllowed: true,
            feePerUse: 2n * COS,
            ownerBps: 6000n,
            donorsBps: 3000n,
            platformBps: 1000n,
          },
        },
      ],
    ],
    [
      ['Settlement', 'GrantFunded', { grantId: 1n, payer: LAB, runs: 3n, amount: 6n * COS }],
      ['DataAccess', 'PaidRunsCredited', { grantId: 1n, runs: 3n, paidRuns: 3n }],
      [
        'DataAccess',
        'Used',
        {
          grantId: 1n,
          datasetId: 1n,
          granteeSbtId: 2n,
          op: 1n,
          runIndex: 1n,
          ticketCommitment: '0xt',
          objectDigest: '0xd',
          gatewaySbtId: 9n,
        },
      ],
      [
        'DataAccess',
        'JobPermitIssued',
        {
          permitId: 1n,
          grantId: 1n,
          datasetId: 1n,
          granteeSbtId: 2n,
          algorithmId: '0xalg',
          paramsHash: '0xjob',
          epsilon: 1_500_000n,
          delta: 10n ** 9n,
          regionCode: '0x4348',
          runIndex: 2n,
        },
      ],
    ],
    [
      [
        'DataAccess',
        'JobResultPosted',
        { permitId: 1n, grantId: 1n, orchestratorSbtId: 9n, resultCommitment: '0xres', resultURI: 'cos://r/1' },
      ],
      ['DataAccess', 'KeySwitchIssued', { permitId: 1n, grantId: 1n, shareCommitment: '0xshare' }],
    ],
    // 2 runs x 2 COS: 60 / 30 / 10; two active donors accrue 0.6 COS each.
    [
      [
        'Settlement',
        'Settled',
        {
          grantId: 1n,
          datasetId: 1n,
          runs: 2n,
          ownerReceiver: STEWARD,
          ownerAmount: (24n * COS) / 10n,
          donorsAmount: (12n * COS) / 10n,
          platformAmount: (4n * COS) / 10n,
        },
      ],
    ],
    [['DatasetRegistry', 'ConsentWithdrawn', { datasetId: 1n, donorSbtId: 3n }]],
    // One more run with donor A withdrawn: donor B alone accrues the 0.6 COS.
    [
      [
        'DataAccess',
        'Used',
        {
          grantId: 1n,
          datasetId: 1n,
          granteeSbtId: 2n,
          op: 1n,
          runIndex: 3n,
          ticketCommitment: '0xt2',
          objectDigest: '0xd',
          gatewaySbtId: 9n,
        },
      ],
      [
        'Settlement',
        'Settled',
        {
          grantId: 1n,
          datasetId: 1n,
          runs: 1n,
          ownerReceiver: STEWARD,
          ownerAmount: (12n * COS) / 10n,
          donorsAmount: (6n * COS) / 10n,
          platformAmount: (2n * COS) / 10n,
        },
      ],
    ],
    [['DatasetRegistry', 'ConsentRestored', { datasetId: 1n, donorSbtId: 3n }]],
    [
      [
        'Settlement',
        'DonorRoyaltyClaimed',
        { datasetId: 1n, donorSbtId: 4n, account: DONOR_B, amount: (12n * COS) / 10n },
      ],
      ['Settlement', 'RoyaltyClaimed', { account: STEWARD, amount: (36n * COS) / 10n }],
      // The treasury named at deployment (no event) claims its fees: they are attributed to it now.
      ['Settlement', 'RoyaltyClaimed', { account: TREASURY, amount: (6n * COS) / 10n }],
      ['DataAccess', 'Revoked', { grantId: 1n, datasetId: 1n, granteeSbtId: 2n, runsUsed: 3n }],
      ['Settlement', 'EscrowRefunded', { grantId: 1n, payer: LAB, runs: 0n, amount: 0n }],
      ['Settlement', 'PlatformTreasurySet', { treasury: TREASURY }],
      ['IdentitySBT', 'Transfer', { from: DONOR_B, to: ZERO, tokenId: 4n }],
    ],
  ];
  return blocks.map((events, index) =>
    events.map(([contract, name, args]) => ({
      chainId: 31337,
      blockNumber: index + 1,
      blockHash: `0xblock${index + 1}`,
      txHash: `0xtx${index + 1}`,
      logIndex: logIndex++,
      contract,
      name,
      args: toJsonValue(args) as { [key: string]: JsonValue },
    })),
  );
}

let temp: ReturnType<typeof tempDatabase>;
let db: SqliteDatabase;
let store: ChainStore;

beforeEach(() => {
  temp = tempDatabase();
  db = temp.db;
  migrate(db, MIGRATIONS);
  store = new ChainStore(db, { chainId: 31337, deployment: '0xdeploy', contracts: {}, startBlock: 1, reorgWindow: 4 });
});
afterEach(() => temp.cleanup());

function applyAll(events: ChainEventRecord[][]) {
  for (const block of events) {
    const number = block[0]!.blockNumber;
    store.applyBatch({
      fromBlock: number,
      toBlock: number,
      toHash: `0xblock${number}`,
      events: block,
      rejected: [],
      blocks: [{ number, hash: `0xblock${number}`, parentHash: `0xblock${number - 1}` }],
    });
  }
}

function snapshot(): Record<string, unknown[]> {
  return Object.fromEntries(PROJECTION_TABLES.map((table) => [table, db.prepare(`SELECT * FROM ${table}`).all()]));
}

describe('projections', () => {
  it('follow a grant through its life: clauses, counters, budget, results, balances and donor royalties', () => {
    applyAll(history());
    expect(db.prepare('SELECT * FROM grants').get()).toMatchObject({
      grantId: 1,
      status: 'Revoked',
      purposeHash: '0xpurpose',
      opMask: 9,
      regionCode: '0x4348',
      epsilonCap: 3_000_000,
      deltaCap: (10n ** 12n).toString(),
      keySwitchAllowed: 1,
      feePerUse: (2n * COS).toString(),
      runsUsed: 3,
      useCount: 2,
      jobPermitCount: 1,
      paidRuns: 3,
      epsilonSpent: 1_500_000,
      deltaSpent: (10n ** 9n).toString(),
    });
    expect(db.prepare('SELECT status FROM job_permits').pluck().get()).toBe('ResultPosted');
    expect(db.prepare('SELECT * FROM grant_escrow').get()).toMatchObject({
      payer: LAB,
      fundedRuns: 3,
      settledRuns: 3,
      settledAmount: (6n * COS).toString(),
    });
    expect(db.prepare('SELECT royalties, claimed, claimable FROM balances WHERE account = ?').get(STEWARD)).toEqual({
      royalties: ((36n * COS) / 10n).toString(),
      claimed: ((36n * COS) / 10n).toString(),
      claimable: '0',
    });
    expect(db.prepare('SELECT platformFees, claimable FROM balances WHERE account = ?').get(TREASURY)).toEqual({
      platformFees: ((6n * COS) / 10n).toString(),
      claimable: '0',
    });
    expect(db.prepare('SELECT * FROM settlement_params').get()).toEqual({
      id: 1,
      platformTreasury: TREASURY,
      unattributedPlatformFees: '0',
    });
    // Accrual: 0.6 per donor, then 0.6 for donor B alone. Donor A kept 0.6 across its withdrawal; B claimed 1.2.
    expect(db.prepare('SELECT donorAccrual, withdrawnCount FROM datasets').get()).toEqual({
      donorAccrual: ((12n * COS) / 10n).toString(),
      withdrawnCount: 0,
    });
    expect(donorClaimable(db, 1, 3)).toBe((6n * COS) / 10n);
    expect(donorClaimable(db, 1, 4)).toBe(0n);
    expect(db.prepare('SELECT change FROM consent_changes ORDER BY id').pluck().all()).toEqual([
      'Withdrawn',
      'Restored',
    ]);
    expect(db.prepare('SELECT burned, roles FROM profiles WHERE sbtId = 4').get()).toEqual({ burned: 1, roles: 0 });
    expect(db.prepare('SELECT regionCode, fheKeyFingerprint, roles FROM profiles WHERE sbtId = 2').get()).toEqual({
      regionCode: '0x4348',
      fheKeyFingerprint: '0xlabkey',
      roles: 4,
    });
  });

  it('recomputed from audit_events equal the ones applied batch by batch', () => {
    applyAll(history());
    const applied = snapshot();
    db.prepare("UPDATE balances SET claimable = '12345'").run();
    db.prepare('DELETE FROM profiles').run();
    expect(rebuildProjections(db)).toBe(history().flat().length);
    expect(snapshot()).toEqual(applied);
  });
});

describe('ChainStore', () => {
  it('applies an event once: a repeated (blockHash, logIndex) is neither stored nor projected again', () => {
    const [first] = history();
    const twice = [...first!, first![2]!];
    const result = store.applyBatch({
      fromBlock: 1,
      toBlock: 1,
      toHash: '0xblock1',
      events: twice,
      rejected: [],
      blocks: [],
    });
    expect(result).toMatchObject({ duplicates: 1 });
    expect(result.applied).toHaveLength(first!.length);
    expect(db.prepare('SELECT roles FROM profiles WHERE sbtId = 1').pluck().get()).toBe(1);
    expect(store.cursor()).toMatchObject({ blockNumber: 1, blockHash: '0xblock1' });
  });

  it('refuses a batch that does not follow the cursor, and writes nothing', () => {
    const [, second] = history();
    let error: unknown;
    try {
      store.applyBatch({ fromBlock: 2, toBlock: 2, toHash: '0xblock2', events: second!, rejected: [], blocks: [] });
    } catch (caught) {
      error = caught;
    }
    expect(isDatabaseError(error, 'CURSOR_MOVED')).toBe(true);
    expect(db.prepare('SELECT COUNT(*) FROM audit_events').pluck().get()).toBe(0);
    expect(store.cursor().blockNumber).toBe(0);
  });

  it('keeps a batch whole: when applying fails half-way, neither its events nor the cursor move', () => {
    const [first] = history();
    const broken = { ...first![1]!, logIndex: 99, name: 'RolesAttested', args: { sbtId: '1', roles: 'not a number' } };
    expect(() =>
      store.applyBatch({
        fromBlock: 1,
        toBlock: 1,
        toHash: '0xblock1',
        events: [...first!, broken],
        rejected: [],
        blocks: [],
      }),
    ).toThrow();
    expect(db.prepare('SELECT COUNT(*) FROM audit_events').pluck().get()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM profiles').pluck().get()).toBe(0);
    expect(store.cursor().blockNumber).toBe(0);
  });

  it('rolls back to a fork block: later events go, projections are recomputed, the cursor moves back', () => {
    const events = history();
    applyAll(events);
    const keep = events.slice(0, 5);
    const orphanedCount = events.slice(5).flat().length;
    const rolledBack = store.rollbackTo(5, '0xblock5');
    expect(rolledBack).toMatchObject({ forkBlock: 5, previousBlock: events.length, reprojected: keep.flat().length });
    expect(rolledBack.orphaned).toHaveLength(orphanedCount);
    expect(store.cursor()).toMatchObject({ blockNumber: 5, blockHash: '0xblock5' });
    expect(store.recentBlocks().filter((block) => block.number > 5)).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) FROM settlements').pluck().get()).toBe(0);
    expect(db.prepare('SELECT status, runsUsed FROM grants').get()).toEqual({ status: 'Granted', runsUsed: 2 });

    // The same projections as a database that only ever saw blocks 1-5.
    const fresh = tempDatabase();
    try {
      migrate(fresh.db, MIGRATIONS);
      const other = new ChainStore(fresh.db, {
        chainId: 31337,
        deployment: '0xdeploy',
        contracts: {},
        startBlock: 1,
        reorgWindow: 4,
      });
      for (const block of keep) {
        const number = block[0]!.blockNumber;
        other.applyBatch({
          fromBlock: number,
          toBlock: number,
          toHash: `0xblock${number}`,
          events: block,
          rejected: [],
          blocks: [],
        });
      }
      const expected = Object.fromEntries(
        PROJECTION_TABLES.map((t) => [t, fresh.db.prepare(`SELECT * FROM ${t}`).all()]),
      );
      expect(snapshot()).toEqual(expected);
    } finally {
      fresh.cleanup();
    }
  });

  it('resets to an empty cache with the cursor before the start block', () => {
    applyAll(history());
    store.reset();
    expect(store.cursor()).toMatchObject({ blockNumber: 0, blockHash: null });
    for (const table of [...PROJECTION_TABLES, 'audit_events', 'rejected_logs', 'chain_blocks']) {
      expect(db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get(), table).toBe(0);
    }
  });
});
