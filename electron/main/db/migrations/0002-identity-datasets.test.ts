import { afterEach, describe, expect, it } from 'vitest';
import { migrate, PROJECTIONS_STALE_KEY } from '../migrate';
import { rebuildProjections } from '../projections';
import { insertAuditEvent, tableNames, tempDatabase } from '../test-db';
import { MIGRATIONS } from './index';

const ZERO = '0x0000000000000000000000000000000000000000';
const HOLDER = '0x1111111111111111111111111111111111111111';

let temp: ReturnType<typeof tempDatabase>;
afterEach(() => temp.cleanup());

describe('migration 0002-identity-datasets', () => {
  it('adds identity and dataset projections over a chain log with rows, and marks them for recomputation', () => {
    temp = tempDatabase();
    const { db } = temp;
    migrate(db, MIGRATIONS, { to: 1 });
    db.prepare(
      `INSERT INTO chain_cursor (chainId, deployment, contracts, startBlock, blockNumber, blockHash, updatedAt)
       VALUES (31337, '0xd', '{}', 1, 3, '0xb3', 0)`,
    ).run();
    insertAuditEvent(db, 2, 'IdentitySBT', 'Transfer', { from: ZERO, to: HOLDER, tokenId: 7n });
    insertAuditEvent(db, 2, 'IdentitySBT', 'RolesAttested', { sbtId: 7n, roles: 1n });
    insertAuditEvent(db, 3, 'DatasetRegistry', 'DatasetRegistered', {
      datasetId: 1n,
      owner: HOLDER,
      manifestCommitment: '0xm',
      fheParamsHash: '0xp',
      fheKeyFingerprint: '0xk',
      consentCodes: 6n,
      consentRoot: '0xr',
      donorCount: 2n,
      resourceURI: 'cos://d/1',
    });
    const before = db.prepare('SELECT * FROM audit_events ORDER BY id').all();

    migrate(db, MIGRATIONS, { to: 2 });
    expect(tableNames(db)).toEqual(
      expect.arrayContaining(['profiles', 'datasets', 'donor_consent', 'consent_changes', 'algorithms']),
    );
    expect(db.prepare('SELECT * FROM audit_events ORDER BY id').all()).toEqual(before);
    expect(db.prepare('SELECT blockNumber FROM chain_cursor').pluck().get()).toBe(3);
    expect(db.prepare('SELECT value FROM db_meta WHERE key = ?').pluck().get(PROJECTIONS_STALE_KEY)).toBe('1');
    expect(db.prepare('SELECT COUNT(*) FROM profiles').pluck().get()).toBe(0);

    // Once at the code's schema, the stored events fill the new tables.
    migrate(db, MIGRATIONS);
    expect(rebuildProjections(db)).toBe(3);
    expect(db.prepare('SELECT sbtId, address, roles, issuedBlock FROM profiles').all()).toEqual([
      { sbtId: 7, address: HOLDER, roles: 1, issuedBlock: 2 },
    ]);
    expect(db.prepare('SELECT datasetId, owner, consentCodes, donorCount FROM datasets').get()).toEqual({
      datasetId: 1,
      owner: HOLDER,
      consentCodes: '6',
      donorCount: 2,
    });
    expect(db.prepare('SELECT COUNT(*) FROM db_meta WHERE key = ?').pluck().get(PROJECTIONS_STALE_KEY)).toBe(0);
  });
});
