import { afterEach, describe, expect, it } from 'vitest';
import { migrate, PROJECTIONS_STALE_KEY } from '../migrate';
import { rebuildProjections } from '../projections';
import { insertAuditEvent, tableNames, tempDatabase } from '../test-db';
import { MIGRATIONS } from './index';

const LAB = '0x2222222222222222222222222222222222222222';

let temp: ReturnType<typeof tempDatabase>;
afterEach(() => temp.cleanup());

describe('migration 0003-access', () => {
  it('adds requests, grants and job permits beside existing identity and dataset rows', () => {
    temp = tempDatabase();
    const { db } = temp;
    migrate(db, MIGRATIONS, { to: 2 });
    db.prepare(`INSERT INTO profiles (sbtId, address, roles, issuedBlock, updatedBlock) VALUES (4, ?, 4, 1, 1)`).run(
      LAB,
    );
    db.prepare(
      `INSERT INTO datasets (datasetId, owner, manifestCommitment, resourceURI, fheParamsHash, fheKeyFingerprint,
        consentCodes, consentRoot, donorCount, registeredBlock, updatedBlock)
       VALUES (1, '0xs', '0xm', 'cos://d/1', '0xp', '0xk', '6', '0xr', 2, 1, 1)`,
    ).run();
    insertAuditEvent(db, 5, 'DataAccess', 'Requested', {
      grantId: 1n,
      datasetId: 1n,
      granteeSbtId: 4n,
      requester: LAB,
      opMask: 9n,
      purposeHash: '0xpurpose',
      purposeCodes: 2n ** 63n + 5n,
    });
    const profiles = db.prepare('SELECT * FROM profiles').all();
    const datasets = db.prepare('SELECT * FROM datasets').all();

    migrate(db, MIGRATIONS, { to: 3 });
    expect(tableNames(db)).toEqual(
      expect.arrayContaining(['requests', 'grants', 'job_permits', 'job_results', 'key_switches']),
    );
    expect(db.prepare('SELECT * FROM profiles').all()).toEqual(profiles);
    expect(db.prepare('SELECT * FROM datasets').all()).toEqual(datasets);
    expect(db.prepare('SELECT value FROM db_meta WHERE key = ?').pluck().get(PROJECTIONS_STALE_KEY)).toBe('1');

    migrate(db, MIGRATIONS);
    rebuildProjections(db);
    // A uint64 wider than a double keeps every digit (decimal TEXT).
    expect(db.prepare('SELECT grantId, status, purposeHash, purposeCodes, opMask FROM requests').get()).toEqual({
      grantId: 1,
      status: 'Requested',
      purposeHash: '0xpurpose',
      purposeCodes: (2n ** 63n + 5n).toString(),
      opMask: 9,
    });
  });
});
