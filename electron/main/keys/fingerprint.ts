import { createHash } from 'node:crypto';
import { VaultError } from './errors';

/** `xxxx xxxx xxxx xxxx xxxx xxxx xxxx xxxx`: eight groups of four lowercase hex digits. */
export const fingerprintPattern = /^[0-9a-f]{4}( [0-9a-f]{4}){7}$/;

/**
 * What the UI shows for a key: the first 16 bytes of SHA-256 over its public bytes, in groups of
 * four hex digits so a person can compare two of them aloud. Only ever computed from public material.
 */
export function fingerprint(publicBytes: Uint8Array): string {
  if (!(publicBytes instanceof Uint8Array) || publicBytes.length === 0) {
    throw new VaultError('BAD_INPUT', 'A fingerprint needs the non-empty public bytes of a key');
  }
  const hex = createHash('sha256').update(publicBytes).digest().subarray(0, 16).toString('hex');
  const groups: string[] = [];
  for (let offset = 0; offset < hex.length; offset += 4) groups.push(hex.slice(offset, offset + 4));
  return groups.join(' ');
}
