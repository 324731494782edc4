import { describe, expect, it } from 'vitest';
import { isVaultError } from './errors';
import { fingerprint, fingerprintPattern } from './fingerprint';

describe('fingerprint', () => {
  it('is the first 16 bytes of SHA-256 in eight groups of four hex digits', () => {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(fingerprint(Buffer.from('abc'))).toBe('ba78 16bf 8f01 cfea 4141 40de 5dae 2223');
    expect(fingerprint(Buffer.from('abc'))).toMatch(fingerprintPattern);
  });

  it('differs for different keys and is stable for the same key', () => {
    const key = Buffer.from('02'.padEnd(66, 'a'), 'hex');
    expect(fingerprint(key)).toBe(fingerprint(Uint8Array.from(key)));
    expect(fingerprint(key)).not.toBe(fingerprint(Buffer.from('03'.padEnd(66, 'a'), 'hex')));
  });

  it('refuses empty or non-byte input', () => {
    expect(() => fingerprint(new Uint8Array())).toThrow(expect.objectContaining({ vaultCode: 'BAD_INPUT' }));
    let caught: unknown;
    try {
      fingerprint('abc' as unknown as Uint8Array);
    } catch (error) {
      caught = error;
    }
    expect(isVaultError(caught, 'BAD_INPUT')).toBe(true);
  });
});
