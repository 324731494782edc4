/**
 * The donors' consent tree of a dataset (hand-written, next to the generated bindings): the Merkle root a steward
 * registers, and the proof a donor shows to withdraw or restore consent or to claim royalties. Leaves and pair
 * hashing match DatasetRegistry.donorLeaf and OpenZeppelin's MerkleProof (sorted pairs), so proofs verify on chain.
 * A leaf holds only the donor's sbtId and a commitment to its consent record (a salted hash kept off chain).
 */
import { AbiCoder, type BigNumberish, type BytesLike, concat, keccak256 } from 'ethers';

export interface ConsentLeafInput {
  donorSbtId: BigNumberish;
  consentCommitment: BytesLike;
}

export interface ConsentTree {
  /** The root to register as DatasetRegistry consentRoot (0x00…00 for a dataset without donors). */
  root: string;
  /** The leaves, in the input order. */
  leaves: string[];
  /** proofs[i] proves leaves[i]. */
  proofs: string[][];
}

const coder = AbiCoder.defaultAbiCoder();
const ZERO = `0x${'00'.repeat(32)}`;

/** keccak256(bytes.concat(keccak256(abi.encode(donorSbtId, consentCommitment)))), as DatasetRegistry.donorLeaf. */
export function donorLeaf(donorSbtId: BigNumberish, consentCommitment: BytesLike): string {
  return keccak256(keccak256(coder.encode(['uint256', 'bytes32'], [donorSbtId, consentCommitment])));
}

function hashPair(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/**
 * Builds the consent tree of `donors`: each level pairs neighbours left to right and carries an odd last node up
 * unchanged, so every leaf has a proof of at most ceil(log2(n)) hashes.
 */
export function buildConsentTree(donors: readonly ConsentLeafInput[]): ConsentTree {
  const leaves = donors.map((donor) => donorLeaf(donor.donorSbtId, donor.consentCommitment));
  if (leaves.length === 0) return { root: ZERO, leaves, proofs: [] };
  const proofs: string[][] = leaves.map(() => []);
  // positions[i]: index of leaf i's ancestor in the current level.
  let positions = leaves.map((_, index) => index);
  let level = leaves;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? hashPair(level[i]!, level[i + 1]!) : level[i]!);
    }
    positions = positions.map((position, leafIndex) => {
      const sibling = position % 2 === 0 ? position + 1 : position - 1;
      if (sibling < level.length) proofs[leafIndex]!.push(level[sibling]!);
      return Math.floor(position / 2);
    });
    level = next;
  }
  return { root: level[0]!, leaves, proofs };
}

/** Whether `proof` shows `leaf` under `root` (the check DatasetRegistry.verifyDonor makes). */
export function verifyConsentProof(root: string, leaf: string, proof: readonly string[]): boolean {
  return proof.reduce((node, sibling) => hashPair(node, sibling), leaf) === root;
}
