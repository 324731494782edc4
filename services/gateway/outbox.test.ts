import { randomBytes } from 'node:crypto';
import { Interface } from 'ethers';
import { describe, expect, it } from 'vitest';
import { COS_ABIS } from '../../shared/contracts';
import { encodeRecordUses } from './outbox';

describe('recordUses calldata', () => {
  const access = new Interface(COS_ABIS.DataAccess);
  const hex32 = () => `0x${randomBytes(32).toString('hex')}`;

  it('equals ethers ABI encoding, for one use and for a full batch', () => {
    for (const count of [1, 2, 100]) {
      const uses = Array.from({ length: count }, (_, i) => ({
        grantId: i === 0 ? (2n ** 256n - 1n).toString() : String(1 + i),
        op: [1, 2, 4, 8, 255][i % 5]!,
        ticketHash: i === 1 ? hex32().toUpperCase().replace('0X', '0x') : hex32(),
        objectDigest: hex32(),
      }));
      const expected = access.encodeFunctionData('recordUses', [
        uses.map((use) => ({
          grantId: use.grantId,
          op: use.op,
          ticketCommitment: use.ticketHash,
          objectDigest: use.objectDigest,
        })),
      ]);
      expect(encodeRecordUses(uses)).toBe(expected);
    }
  });

  it('refuses values the ABI cannot hold', () => {
    const use = { grantId: '1', op: 1, ticketHash: hex32(), objectDigest: hex32() };
    expect(() => encodeRecordUses([{ ...use, grantId: (2n ** 256n).toString() }])).toThrow(/out of range/);
    expect(() => encodeRecordUses([{ ...use, grantId: '-1' }])).toThrow(/grantId/);
    expect(() => encodeRecordUses([{ ...use, op: 256 }])).toThrow(/op/);
    expect(() => encodeRecordUses([{ ...use, objectDigest: '0x12' }])).toThrow(/bytes32/);
  });
});
