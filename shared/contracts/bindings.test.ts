import { Interface, ZeroHash, id } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  OP,
  ROLE,
  buildConsentTree,
  dataAccessAbi,
  decodeCosError,
  decodeDataAccessEvent,
  donorLeaf,
  revertDataOf,
  verifyConsentProof,
} from './index';

const dataAccess = new Interface(dataAccessAbi);

describe('generated constants', () => {
  it('mirror the Solidity libraries', () => {
    expect(OP).toEqual({ READ: 1, LIST: 2, EXPORT: 4, COMPUTE: 8, ALL: 15 });
    expect(ROLE.ALL).toBe(63);
    expect(ALGORITHMS.GWAS_ALLELIC_CHISQ.id).toBe(id('cos.alg.gwas-allelic-chisq.v1'));
  });
});

describe('event decoding', () => {
  it('turns a Granted log into plain typed arguments', () => {
    const terms = {
      opMask: 9,
      notBefore: 10,
      expiry: 20,
      maxRuns: 5,
      rateWindow: 0,
      rateMaxRuns: 0,
      regionCode: '0x4348',
      epsilonCap: 3_000_000,
      deltaCap: 1_000_000_000n,
      termsHash: id('terms'),
      keySwitchAllowed: true,
      feePerUse: 2n * 10n ** 18n,
      ownerBps: 6000,
      donorsBps: 3000,
      platformBps: 1000,
    };
    const { topics, data } = dataAccess.encodeEventLog('Granted', [7, 3, 4, terms]);
    const event = decodeDataAccessEvent({ topics, data });
    expect(event?.name).toBe('Granted');
    if (event?.name !== 'Granted') throw new Error('not Granted');
    expect(event.args.grantId).toBe(7n);
    expect(event.args.terms).toEqual({
      ...terms,
      opMask: 9n,
      notBefore: 10n,
      expiry: 20n,
      maxRuns: 5n,
      rateWindow: 0n,
      rateMaxRuns: 0n,
      epsilonCap: 3_000_000n,
      ownerBps: 6000n,
      donorsBps: 3000n,
      platformBps: 1000n,
    });
  });

  it('returns null for a log of another contract', () => {
    expect(decodeDataAccessEvent({ topics: [id('Other()')], data: '0x' })).toBeNull();
  });
});

describe('error decoding', () => {
  it('finds the custom error behind an ethers CALL_EXCEPTION', () => {
    const data = dataAccess.encodeErrorResult('DataAccessGrantRevoked', [12]);
    const error = { code: 'CALL_EXCEPTION', info: { error: { data } } };
    expect(decodeCosError(revertDataOf(error)!)).toEqual({
      name: 'DataAccessGrantRevoked',
      signature: 'DataAccessGrantRevoked(uint256)',
      args: { grantId: 12n },
    });
    expect(decodeCosError('0x12345678')).toBeNull();
  });
});

describe('consent tree', () => {
  it('proves every leaf for trees of 1 to 9 donors', () => {
    for (let size = 1; size <= 9; size += 1) {
      const donors = Array.from({ length: size }, (_, i) => ({ donorSbtId: i + 1, consentCommitment: id(`c${i}`) }));
      const tree = buildConsentTree(donors);
      tree.leaves.forEach((leaf, i) => {
        expect(verifyConsentProof(tree.root, leaf, tree.proofs[i]!)).toBe(true);
        expect(tree.proofs[i]!.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
      });
      expect(verifyConsentProof(tree.root, donorLeaf(99, id('x')), tree.proofs[0]!)).toBe(false);
    }
  });

  it('hashes a leaf as DatasetRegistry.donorLeaf does (same vector as DatasetRegistry.t.sol)', () => {
    expect(donorLeaf(5, id('consent'))).toBe('0xe8c0eb792a5d843f8f0661a1a93a7961b0725937c6b9cab9408f645d4fd2f787');
    expect(buildConsentTree([]).root).toBe(ZeroHash);
  });
});
