import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { VaultError } from './errors';

/**
 * Chunked AES-256-GCM in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015): each
 * chunk is sealed on its own with a nonce made of its index and a "final" flag, so secrets of tens of
 * megabytes are sealed and opened in constant memory, and reordering, dropping, truncating or
 * extending chunks all fail authentication. The final chunk is always shorter than a full one (it may
 * be empty), so a reader knows which chunk is last from its size alone.
 */

export const GCM_TAG_BYTES = 16;
export const MIN_CHUNK_BYTES = 4 * 1024;
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_CHUNK_INDEX = 0xffff_ffff;

/** Bytes in, from memory or a stream: a whole buffer, or pieces of any size. */
export type ByteSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Reads up to `length` bytes; fewer only at the end of the input. */
export interface RecordReader {
  read(length: number): Promise<Buffer>;
}

export function assertChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_BYTES || chunkSize > MAX_CHUNK_BYTES) {
    throw new VaultError('CORRUPT_SECRET', `Chunk size ${chunkSize} is outside the supported range`);
  }
}

// Keys are fresh for every sealed file, so the nonce only has to be unique within one file.
function chunkNonce(index: number, final: boolean): Buffer {
  if (index > MAX_CHUNK_INDEX) throw new VaultError('BAD_INPUT', 'Secret too large for one sealed file');
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(index, 7);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

export function encryptChunk(
  key: Uint8Array,
  aad: Uint8Array,
  index: number,
  final: boolean,
  plaintext: Uint8Array,
): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(index, final), { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const rest = cipher.final();
  return Buffer.concat([body, rest, cipher.getAuthTag()]);
}

export function decryptChunk(
  key: Uint8Array,
  aad: Uint8Array,
  index: number,
  final: boolean,
  record: Uint8Array,
  describe: string,
): Buffer {
  if (record.length < GCM_TAG_BYTES) throw new VaultError('CORRUPT_SECRET', `${describe} is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(index, final), { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(record.subarray(record.length - GCM_TAG_BYTES));
  const plaintext = decipher.update(record.subarray(0, record.length - GCM_TAG_BYTES));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0); // never hand out bytes that failed authentication
    throw new VaultError('CORRUPT_SECRET', `${describe} failed its integrity check (tampered, swapped or damaged)`);
  }
  return plaintext;
}

async function* piecesOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) throw new VaultError('BAD_INPUT', 'Secret content must be bytes');
    yield piece;
  }
}

/** Encrypts any byte source into records of `chunkSize + 16` bytes, the last one shorter. */
export async function* encryptChunks(
  key: Uint8Array,
  aad: Uint8Array,
  chunkSize: number,
  source: ByteSource,
): AsyncGenerator<Buffer> {
  const pending = Buffer.alloc(chunkSize);
  let filled = 0;
  let index = 0;
  try {
    for await (const piece of piecesOf(source)) {
      let offset = 0;
      while (offset < piece.length) {
        const taken = Math.min(chunkSize - filled, piece.length - offset);
        pending.set(piece.subarray(offset, offset + taken), filled);
        filled += taken;
        offset += taken;
        if (filled === chunkSize) {
          yield encryptChunk(key, aad, index, false, pending);
          index += 1;
          filled = 0;
        }
      }
    }
    yield encryptChunk(key, aad, index, true, pending.subarray(0, filled));
  } finally {
    pending.fill(0);
  }
}

/**
 * Decrypts records until the final one, then insists the input ends there. Chunks come out as they
 * are verified; a consumer that streams them must treat a later error as "the whole secret is bad".
 */
export async function* decryptChunks(
  key: Uint8Array,
  aad: Uint8Array,
  chunkSize: number,
  reader: RecordReader,
  describe: string,
): AsyncGenerator<Buffer> {
  const recordSize = chunkSize + GCM_TAG_BYTES;
  for (let index = 0; ; index += 1) {
    const record = await reader.read(recordSize);
    if (record.length === recordSize) {
      yield decryptChunk(key, aad, index, false, record, describe);
      continue;
    }
    const last = decryptChunk(key, aad, index, true, record, describe);
    if ((await reader.read(1)).length !== 0) {
      last.fill(0);
      throw new VaultError('CORRUPT_SECRET', `${describe} has data after its final chunk`);
    }
    yield last;
    return;
  }
}

/** Plaintext length of a body of records, or null when the body cannot be a valid sequence. */
export function plaintextLengthOf(bodyLength: number, chunkSize: number): number | null {
  const recordSize = chunkSize + GCM_TAG_BYTES;
  const fullRecords = Math.floor(bodyLength / recordSize);
  const lastRecord = bodyLength - fullRecords * recordSize;
  if (lastRecord < GCM_TAG_BYTES) return null;
  return fullRecords * chunkSize + lastRecord - GCM_TAG_BYTES;
}

export function fileRecordReader(handle: FileHandle, start: number): RecordReader {
  let position = start;
  return {
    async read(length) {
      const buffer = Buffer.alloc(length);
      let received = 0;
      while (received < length) {
        const { bytesRead } = await handle.read(buffer, received, length - received, position + received);
        if (bytesRead === 0) break;
        received += bytesRead;
      }
      position += received;
      return received === length ? buffer : buffer.subarray(0, received);
    },
  };
}
