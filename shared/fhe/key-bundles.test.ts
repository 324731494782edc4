import { describe, expect, it } from 'vitest';
import { isFheError } from './errors';
import { decodeEnvelope, encodeEnvelope } from './frames';
import {
  checkKeyRequests,
  DEFAULT_KEY_REQUESTS,
  encodePublicKeyBundle,
  encodeSecretKeyBundle,
  parsePublicKeyBundle,
  parseSecretKeyBundle,
  publicKeysDigest,
  secretKeyFor,
  slotSumGaloisSteps,
} from './key-bundles';

function fheCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isFheError(error) ? error.fheCode : 'not an FheError';
  }
  return undefined;
}

describe('key bundles', () => {
  it('ask for evaluation keys only where an algorithm needs them', () => {
    expect(slotSumGaloisSteps('ckks-n8192-s40')).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(
      DEFAULT_KEY_REQUESTS.map((r) => [r.parameterSetId, r.relinearization ?? false, r.galoisSteps?.length ?? 0]),
    ).toEqual([
      ['bfv-n4096-t60', false, 0],
      ['ckks-n8192-s40', false, 12],
    ]);
    expect(() => checkKeyRequests(DEFAULT_KEY_REQUESTS)).not.toThrow();
  });

  it('refuse requests the parameters cannot serve', () => {
    expect(fheCode(() => checkKeyRequests([]))).toBe('BAD_PARAMETERS');
    expect(fheCode(() => checkKeyRequests([{ parameterSetId: 'bfv-n4096-t60', relinearization: true }]))).toBe(
      'BAD_PARAMETERS',
    );
    expect(fheCode(() => checkKeyRequests([{ parameterSetId: 'bfv-n4096-t60', galoisSteps: [1] }]))).toBe(
      'BAD_PARAMETERS',
    );
    expect(fheCode(() => checkKeyRequests([{ parameterSetId: 'ckks-n8192-s40', galoisSteps: [4096] }]))).toBe(
      'BAD_PARAMETERS',
    );
    expect(fheCode(() => checkKeyRequests([{ parameterSetId: 'ckks-n8192-s40', galoisSteps: [1, 1] }]))).toBe(
      'BAD_PARAMETERS',
    );
    const twice = [{ parameterSetId: 'ckks-n8192-s40' as const }, { parameterSetId: 'ckks-n8192-s40' as const }];
    expect(fheCode(() => checkKeyRequests(twice))).toBe('BAD_PARAMETERS');
  });

  it('round-trip and point the secret bundle at its public bundle', () => {
    const publicBundle = encodePublicKeyBundle([
      { parameterSetId: 'bfv-n4096-t60', parts: [{ kind: 'public', bytes: Uint8Array.of(1) }] },
      {
        parameterSetId: 'ckks-n8192-s40',
        parts: [
          { kind: 'public', bytes: Uint8Array.of(2) },
          { kind: 'galois', steps: [1, 2], bytes: Uint8Array.of(3) },
        ],
      },
    ]);
    expect(parsePublicKeyBundle(publicBundle)[1]!.parts[1]).toEqual({
      kind: 'galois',
      steps: [1, 2],
      bytes: Uint8Array.of(3),
    });
    const secretBundle = encodeSecretKeyBundle(
      [{ parameterSetId: 'bfv-n4096-t60', bytes: Uint8Array.of(9, 9) }],
      publicBundle,
    );
    const parsed = parseSecretKeyBundle(secretBundle);
    expect(parsed.publicKeysDigest).toBe(publicKeysDigest(publicBundle));
    expect(secretKeyFor(parsed, 'bfv-n4096-t60')).toEqual(Uint8Array.of(9, 9));
    expect(fheCode(() => secretKeyFor(parsed, 'ckks-n8192-s40'))).toBe('BAD_KEYS');
  });

  it('refuse bundles that name other parameters or miss keys', () => {
    const bundle = encodePublicKeyBundle([
      { parameterSetId: 'bfv-n4096-t60', parts: [{ kind: 'public', bytes: Uint8Array.of(1) }] },
    ]);
    const { header } = decodeEnvelope(bundle, 'x', 'BAD_KEYS') as { header: { keys: { parameterSetHash: string }[] } };
    header.keys[0]!.parameterSetHash = `0x${'00'.repeat(32)}`;
    expect(fheCode(() => parsePublicKeyBundle(encodeEnvelope(header, [Uint8Array.of(1)])))).toBe('BAD_KEYS');
    expect(
      fheCode(() => parsePublicKeyBundle(encodeEnvelope({ format: 'cos.fhe.public-keys.v1', keys: [] }, []))),
    ).toBe('BAD_KEYS');
    const valid = decodeEnvelope(bundle, 'x', 'BAD_KEYS').header as Record<string, unknown>;
    expect(fheCode(() => parsePublicKeyBundle(encodeEnvelope(valid, [])))).toBe('BAD_KEYS');
    expect(fheCode(() => parseSecretKeyBundle(bundle))).toBe('BAD_KEYS');
  });
});
