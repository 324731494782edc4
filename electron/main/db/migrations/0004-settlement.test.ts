import { afterEach, describe, expect, it } from 'vitest';
import { migrate, PROJECTIONS_STALE_KEY } from '../migrate';
import { rebuildProjections } from '../projections';
import { insertAuditEvent, tableNames, tempDatabase } from '../test-db';
import { MIGRATIONS } from './index';

const STEWARD = '0x3333333333333333333333333333333333333333';

let temp: ReturnType<typeof tempDatabase>;
afterEach(() => temp.cleanup());

describe('migration 0004-settlement', () => {
  it('adds the donor accrual to existing datasets and the settlement tables', () => {
    temp = tempDatabase();
    const { db } = temp;
    migrate(db, MIGRATIONS, { to: 3 });
    db.prepare(
      `INSERT INTO datasets (datasetId, owner, manifestCommitment, resourceURI, fheParamsHash, fheKeyFingerprint,
        consentCodes, consentRoot, donorCount, registeredBlock, updatedBlock)
       VALUES (1, ?, '0xm', 'cos://d/1', '0xp', '0xk', '6', '0xr', 2, 1, 1)`,
    ).run(STEWARD);
    db.prepare(
      `INSERT INTO requests (grantId, datasetId, granteeSbtId, requester, opMask, purposeHash, purposeCodes, status,
        requestedBlock, requestedTxHash) VALUES (1, 1, 4, '0xl', 1, '0xp', '2', 'Granted', 2, '0xt')`,
    ).run();
    insertAuditEvent(db, 1, 'DatasetRegistry', 'DatasetRegistered', {
      datasetId: 1n,
      owner: STEWARD,
      manifestCommitment: '0xm',
      fheParamsHash: '0xp',
      fheKeyFingerprint: '0xk',
      consentCodes: 6n,
      consentRoot: '0xr',
      donorCount: 2n,
      resourceURI: 'cos://d/1',
    });
    insertAuditEvent(db, 9, 'Settlement', 'Settled', {
      grantId: 1n,
      datasetId: 1n,
      runs: 2n,
      ownerReceiver: STEWARD,
      ownerAmount: 2_400n,
      donorsAmount: 1_200n,
      platformAmount: 400n,
    });
    const requests = db.prepare('SELECT * FROM requests').all();

    migrate(db, MIGRATIONS, { to: 4 });
    expect(tableNames(db)).toEqual(
      expect.arrayContaining(['grant_escrow', 'settlements', 'balances', 'donor_royalties', 'settlement_params']),
    );
    expect(db.prepare('SELECT datasetId, owner, donorCount, donorAccrual FROM datasets').get()).toEqual({
      datasetId: 1,
      owner: STEWARD,
      donorCount: 2,
      donorAccrual: '0',
    });
    expect(db.prepare('SELECT * FROM requests').all()).toEqual(requests);
    expect(db.prepare('SELECT value FROM db_meta WHERE key = ?').pluck().get(PROJECTIONS_STALE_KEY)).toBe('1');

    rebuildProjections(db);
    expect(db.prepare('SELECT royalties, claimable FROM balances WHERE account = ?').get(STEWARD)).toEqual({
      royalties: '2400',
      claimable: '2400',
    });
    expect(db.prepare('SELECT donorAccrual FROM datasets').pluck().get()).toBe('600');
    expect(db.prepare('SELECT unattributedPlatformFees FROM settlement_params').pluck().get()).toBe('400');
  });
});
