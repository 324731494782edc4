import { canonicalJson } from './canonical';
import { FheError, type FheErrorCode } from './errors';

/**
 * Every FHE object (ciphertext objects, key bundles, results) is `COSFHE\0\1` followed by frames, each a
 * 4-byte little-endian length and that many bytes (one SEAL-serialized object, or a JSON header).
 * Frames can be appended one at a time, so a sample's object grows block by block while a VCF streams.
 */
export const OBJECT_MAGIC = Uint8Array.of(0x43, 0x4f, 0x53, 0x46, 0x48, 0x45, 0x00, 0x01);
/** Larger than any SEAL object these parameter sets produce (Galois keys at N=16384 included). */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export function framePrefix(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_FRAME_BYTES) {
    throw new FheError('BAD_OBJECT', `A frame of ${length} bytes is out of range`);
  }
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, length, true);
  return prefix;
}

export function encodeFrames(frames: readonly Uint8Array[]): Uint8Array {
  const total = OBJECT_MAGIC.length + frames.reduce((sum, frame) => sum + 4 + frame.length, 0);
  const bytes = new Uint8Array(total);
  bytes.set(OBJECT_MAGIC, 0);
  let offset = OBJECT_MAGIC.length;
  for (const frame of frames) {
    bytes.set(framePrefix(frame.length), offset);
    bytes.set(frame, offset + 4);
    offset += 4 + frame.length;
  }
  return bytes;
}

/** The frames of `bytes`, as views into it; `errorCode` names what a malformed object means to the caller. */
export function decodeFrames(bytes: Uint8Array, what: string, errorCode: FheErrorCode = 'BAD_OBJECT'): Uint8Array[] {
  if (!(bytes instanceof Uint8Array) || bytes.length < OBJECT_MAGIC.length) {
    throw new FheError(errorCode, `${what} is not an FHE object (too short)`);
  }
  for (let i = 0; i < OBJECT_MAGIC.length; i += 1) {
    if (bytes[i] !== OBJECT_MAGIC[i]) throw new FheError(errorCode, `${what} is not an FHE object (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Uint8Array[] = [];
  let offset = OBJECT_MAGIC.length;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new FheError(errorCode, `${what} ends inside a frame header`);
    const length = view.getUint32(offset, true);
    if (length > MAX_FRAME_BYTES || offset + 4 + length > bytes.length) {
      throw new FheError(errorCode, `${what} has a truncated or oversized frame at byte ${offset}`);
    }
    frames.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return frames;
}

/** An object whose first frame is a canonical JSON header describing the binary frames after it. */
export function encodeEnvelope(header: Record<string, unknown>, blobs: readonly Uint8Array[]): Uint8Array {
  return encodeFrames([new TextEncoder().encode(canonicalJson(header)), ...blobs]);
}

export function decodeEnvelope(
  bytes: Uint8Array,
  what: string,
  errorCode: FheErrorCode,
): { header: unknown; blobs: Uint8Array[] } {
  const [headerFrame, ...blobs] = decodeFrames(bytes, what, errorCode);
  if (headerFrame === undefined) throw new FheError(errorCode, `${what} has no header`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerFrame));
  } catch (error) {
    throw new FheError(errorCode, `${what} has an unreadable header`, { cause: error });
  }
  return { header, blobs };
}
