import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../migrate';
import { tableNames, tempDatabase } from '../test-db';
import { MIGRATIONS } from './index';

let temp: ReturnType<typeof tempDatabase>;
afterEach(() => temp.cleanup());

describe('migration 0001-chain-log', () => {
  it('creates the chain log on an empty database and enforces its keys', () => {
    temp = tempDatabase();
    const { db } = temp;
    expect(schemaVersion(db)).toBe(0);
    migrate(db, MIGRATIONS, { to: 1 });
    expect(schemaVersion(db)).toBe(1);
    expect(tableNames(db)).toEqual([
      'audit_events',
      'chain_blocks',
      'chain_cursor',
      'db_meta',
      'rejected_logs',
      'schema_migrations',
    ]);
    db.prepare(
      `INSERT INTO chain_cursor (chainId, deployment, contracts, startBlock, blockNumber, blockHash, updatedAt)
       VALUES (31337, '0xd', '{}', 1, 0, NULL, 0)`,
    ).run();
    const event = db.prepare(`INSERT INTO audit_events (chainId, blockNumber, blockHash, txHash, logIndex, contract,
      name, args) VALUES (31337, 1, '0xb1', '0xt', ?, 'IdentitySBT', 'Locked', ?)`);
    event.run(0, '{"tokenId":"1"}');
    // (chainId, blockHash, logIndex) identifies an event: the same log cannot be stored twice.
    expect(() => event.run(0, '{"tokenId":"1"}')).toThrow(/UNIQUE/);
    expect(() => event.run(1, 'not json')).toThrow(/CHECK/);
    // Recent block hashes belong to a cursor.
    expect(() => db.prepare(`INSERT INTO chain_blocks VALUES (1, 'other', 1, '0xb1', '0xb0')`).run()).toThrow(
      /FOREIGN KEY/,
    );
    db.prepare(`INSERT INTO chain_blocks VALUES (31337, '0xd', 1, '0xb1', '0xb0')`).run();
    db.prepare('DELETE FROM chain_cursor').run();
    expect(db.prepare('SELECT COUNT(*) FROM chain_blocks').pluck().get()).toBe(0);
  });
});
