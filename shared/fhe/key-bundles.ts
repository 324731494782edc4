import { sha256 } from 'ethers';
import { z } from 'zod';
import { FheError } from './errors';
import { decodeEnvelope, encodeEnvelope } from './frames';
import { getParameterSet, parameterSetHash, parameterSetIds, type ParameterSetId } from './parameters';

/** What to generate for one parameter set. Evaluation keys only where an algorithm needs them. */
export interface KeyRequest {
  parameterSetId: ParameterSetId;
  relinearization?: boolean;
  galoisSteps?: number[];
}

/** Rotation steps 1, 2, 4, … that sum all slots of a CKKS vector (log2(slots) rotations). */
export function slotSumGaloisSteps(parameterSetId: ParameterSetId): number[] {
  const steps: number[] = [];
  for (let step = 1; step < getParameterSet(parameterSetId).slots; step *= 2) steps.push(step);
  return steps;
}

/**
 * A dataset's keys: genotype counts need no evaluation key at all (additions only); numeric columns
 * need rotations for slot sums. No relinearization key: no algorithm multiplies two ciphertexts.
 */
export const DEFAULT_KEY_REQUESTS: readonly KeyRequest[] = [
  { parameterSetId: 'bfv-n4096-t60' },
  { parameterSetId: 'ckks-n8192-s40', galoisSteps: slotSumGaloisSteps('ckks-n8192-s40') },
];

export function checkKeyRequests(requests: readonly KeyRequest[]): void {
  if (requests.length === 0) throw new FheError('BAD_PARAMETERS', 'Key generation needs at least one parameter set');
  const seen = new Set<string>();
  for (const request of requests) {
    const set = getParameterSet(request.parameterSetId);
    if (seen.has(set.id)) throw new FheError('BAD_PARAMETERS', `Parameter set ${set.id} is requested twice`);
    seen.add(set.id);
    const steps = request.galoisSteps ?? [];
    if ((request.relinearization || steps.length > 0) && !set.keySwitching) {
      throw new FheError('BAD_PARAMETERS', `${set.id} supports no key switching: no relinearization or Galois keys`);
    }
    if (
      new Set(steps).size !== steps.length ||
      steps.some((s) => !Number.isInteger(s) || s === 0 || Math.abs(s) >= set.slots)
    ) {
      throw new FheError(
        'BAD_PARAMETERS',
        `Galois steps for ${set.id} must be distinct non-zero integers below ${set.slots}`,
      );
    }
  }
}

const publicPartSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('public') }),
  z.strictObject({ kind: z.literal('relinearization') }),
  z.strictObject({ kind: z.literal('galois'), steps: z.array(z.number().int()).min(1) }),
]);
export type PublicKeyPart = z.infer<typeof publicPartSchema>;

const publicHeaderSchema = z.strictObject({
  format: z.literal('cos.fhe.public-keys.v1'),
  keys: z
    .array(
      z.strictObject({
        parameterSetId: z.enum(parameterSetIds),
        parameterSetHash: z.string(),
        parts: z.array(publicPartSchema).min(1),
      }),
    )
    .min(1),
});

const secretHeaderSchema = z.strictObject({
  format: z.literal('cos.fhe.secret-keys.v1'),
  publicKeysDigest: z.string().regex(/^0x[0-9a-f]{64}$/),
  keys: z.array(z.strictObject({ parameterSetId: z.enum(parameterSetIds), parameterSetHash: z.string() })).min(1),
});

export interface PublicKeyEntry {
  parameterSetId: ParameterSetId;
  parts: (PublicKeyPart & { bytes: Uint8Array })[];
}

export interface SecretKeyEntry {
  parameterSetId: ParameterSetId;
  bytes: Uint8Array;
}

/** Public evaluation material for the orchestrator: SEAL-serialized (seeded, zstd) keys per set. */
export function encodePublicKeyBundle(entries: readonly PublicKeyEntry[]): Uint8Array {
  return encodeEnvelope(
    {
      format: 'cos.fhe.public-keys.v1',
      keys: entries.map((entry) => ({
        parameterSetId: entry.parameterSetId,
        parameterSetHash: parameterSetHash(entry.parameterSetId),
        parts: entry.parts.map(({ bytes: _bytes, ...part }) => part),
      })),
    },
    entries.flatMap((entry) => entry.parts.map((part) => part.bytes)),
  );
}

export function parsePublicKeyBundle(bytes: Uint8Array): PublicKeyEntry[] {
  const { header, blobs } = decodeEnvelope(bytes, 'The public key bundle', 'BAD_KEYS');
  const parsed = publicHeaderSchema.safeParse(header);
  if (!parsed.success) throw new FheError('BAD_KEYS', 'The public key bundle has an invalid header');
  let next = 0;
  const entries = parsed.data.keys.map((key) => {
    if (key.parameterSetHash !== parameterSetHash(key.parameterSetId)) {
      throw new FheError('BAD_KEYS', `The public keys for ${key.parameterSetId} name other parameters`);
    }
    return {
      parameterSetId: key.parameterSetId,
      parts: key.parts.map((part) => ({ ...part, bytes: blobs[next++] ?? new Uint8Array() })),
    };
  });
  if (next !== blobs.length || entries.some((entry) => entry.parts.some((part) => part.bytes.length === 0))) {
    throw new FheError('BAD_KEYS', 'The public key bundle has missing or extra keys');
  }
  return entries;
}

/** `0x` + SHA-256 of the public bundle, recorded in the secret bundle so the two can be matched. */
export function publicKeysDigest(publicBundle: Uint8Array): string {
  return sha256(publicBundle);
}

/** The secret keys (SEAL-serialized, uncompressed) with a pointer to their public bundle. */
export function encodeSecretKeyBundle(entries: readonly SecretKeyEntry[], publicBundle: Uint8Array): Uint8Array {
  return encodeEnvelope(
    {
      format: 'cos.fhe.secret-keys.v1',
      publicKeysDigest: publicKeysDigest(publicBundle),
      keys: entries.map((entry) => ({
        parameterSetId: entry.parameterSetId,
        parameterSetHash: parameterSetHash(entry.parameterSetId),
      })),
    },
    entries.map((entry) => entry.bytes),
  );
}

export function parseSecretKeyBundle(bytes: Uint8Array): { publicKeysDigest: string; keys: SecretKeyEntry[] } {
  const { header, blobs } = decodeEnvelope(bytes, 'The secret key bundle', 'BAD_KEYS');
  const parsed = secretHeaderSchema.safeParse(header);
  if (!parsed.success || parsed.data.keys.length !== blobs.length) {
    throw new FheError('BAD_KEYS', 'The secret key bundle is malformed');
  }
  const keys = parsed.data.keys.map((key, i) => {
    if (key.parameterSetHash !== parameterSetHash(key.parameterSetId)) {
      throw new FheError('BAD_KEYS', `The secret key for ${key.parameterSetId} names other parameters`);
    }
    return { parameterSetId: key.parameterSetId, bytes: blobs[i]! };
  });
  return { publicKeysDigest: parsed.data.publicKeysDigest, keys };
}

export function secretKeyFor(bundle: { keys: SecretKeyEntry[] }, parameterSetId: ParameterSetId): Uint8Array {
  const entry = bundle.keys.find((key) => key.parameterSetId === parameterSetId);
  if (!entry) throw new FheError('BAD_KEYS', `The secret keys hold no key for ${parameterSetId}`);
  return entry.bytes;
}
