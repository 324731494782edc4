import { hkdfSync, randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file';
import {
  assertChunkSize,
  decryptChunks,
  encryptChunks,
  fileRecordReader,
  plaintextLengthOf,
  type ByteSource,
} from './chunked-aead';
import { VaultError } from './errors';

/*
 * Sealed secret file, format v1 (all integers big-endian):
 *
 *   offset  size  field
 *        0     8  magic "COSVSEAL"
 *        8     1  format version = 1
 *        9     1  suite = 1: HKDF-SHA256 file key, AES-256-GCM, STREAM chunks
 *       10     2  reserved, zero
 *       12     4  chunk size in plaintext bytes (4 KiB .. 16 MiB)
 *       16    32  salt, random for every write
 *       48     …  records: ciphertext of one chunk + 16-byte GCM tag; all full-size but the last
 *
 * file key = HKDF-SHA256(ikm = profile master key, salt, info = "cos-custodian/vault/sealed-secret/v1")
 * every record's AAD = header (48 bytes) ‖ u16 len ‖ profile id ‖ u16 len ‖ secret name (UTF-8)
 */

export const SEALED_MAGIC = Buffer.from('COSVSEAL', 'ascii');
export const SEALED_VERSION = 1;
export const SEALED_SUITE = 1;
export const SEALED_HEADER_BYTES = 48;
export const DEFAULT_SEALED_CHUNK_BYTES = 64 * 1024;
const FILE_KEY_INFO = 'cos-custodian/vault/sealed-secret/v1';

/** Who a sealed file belongs to; bound into every chunk, so files cannot be swapped or moved. */
export interface SealContext {
  profileId: string;
  secretName: string;
}

interface SealedHeader {
  bytes: Buffer;
  chunkSize: number;
  salt: Buffer;
}

function describe(context: SealContext): string {
  return `Secret "${context.secretName}" of profile ${context.profileId}`;
}

function encodeHeader(chunkSize: number, salt: Buffer): Buffer {
  const header = Buffer.alloc(SEALED_HEADER_BYTES);
  SEALED_MAGIC.copy(header, 0);
  header.writeUInt8(SEALED_VERSION, 8);
  header.writeUInt8(SEALED_SUITE, 9);
  header.writeUInt32BE(chunkSize, 12);
  salt.copy(header, 16);
  return header;
}

function parseHeader(bytes: Buffer, context: SealContext): SealedHeader {
  const what = describe(context);
  if (bytes.length < SEALED_HEADER_BYTES || !bytes.subarray(0, 8).equals(SEALED_MAGIC)) {
    throw new VaultError('CORRUPT_SECRET', `${what} is not a sealed secret file`);
  }
  if (bytes.readUInt8(8) !== SEALED_VERSION || bytes.readUInt8(9) !== SEALED_SUITE || bytes.readUInt16BE(10) !== 0) {
    throw new VaultError('CORRUPT_SECRET', `${what} has an unsupported format version`);
  }
  const chunkSize = bytes.readUInt32BE(12);
  assertChunkSize(chunkSize);
  return { bytes: bytes.subarray(0, SEALED_HEADER_BYTES), chunkSize, salt: bytes.subarray(16, 48) };
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(bytes.length);
  return Buffer.concat([prefix, bytes]);
}

function recordAad(header: Buffer, context: SealContext): Buffer {
  return Buffer.concat([header, lengthPrefixed(context.profileId), lengthPrefixed(context.secretName)]);
}

function fileKey(masterKey: Uint8Array, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, salt, FILE_KEY_INFO, 32));
}

/** The whole sealed file as a byte stream: header, then records. */
export async function* sealRecords(
  masterKey: Uint8Array,
  context: SealContext,
  source: ByteSource,
  chunkSize = DEFAULT_SEALED_CHUNK_BYTES,
): AsyncGenerator<Buffer> {
  assertChunkSize(chunkSize);
  const salt = randomBytes(32);
  const header = encodeHeader(chunkSize, salt);
  const key = fileKey(masterKey, salt);
  try {
    yield header;
    yield* encryptChunks(key, recordAad(header, context), chunkSize, source);
  } finally {
    key.fill(0);
  }
}

/** Seals `source` into `filePath` atomically: a crash leaves the previous version intact. */
export async function writeSealedFile(
  filePath: string,
  masterKey: Uint8Array,
  context: SealContext,
  source: ByteSource,
  chunkSize = DEFAULT_SEALED_CHUNK_BYTES,
): Promise<void> {
  await writeFileAtomic(filePath, sealRecords(masterKey, context, source, chunkSize));
}

async function openExisting(filePath: string, context: SealContext): Promise<FileHandle> {
  try {
    return await open(filePath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VaultError('SECRET_NOT_FOUND', `${describe(context)} does not exist`);
    }
    throw error;
  }
}

async function readHeader(handle: FileHandle, context: SealContext): Promise<SealedHeader> {
  const bytes = Buffer.alloc(SEALED_HEADER_BYTES);
  const { bytesRead } = await handle.read(bytes, 0, SEALED_HEADER_BYTES, 0);
  return parseHeader(bytes.subarray(0, bytesRead), context);
}

/** Decrypted chunks of a sealed file, each verified before it is yielded. */
export async function* openSealedFile(
  filePath: string,
  masterKey: Uint8Array,
  context: SealContext,
): AsyncGenerator<Buffer> {
  const handle = await openExisting(filePath, context);
  try {
    const header = await readHeader(handle, context);
    const key = fileKey(masterKey, header.salt);
    try {
      const reader = fileRecordReader(handle, SEALED_HEADER_BYTES);
      yield* decryptChunks(key, recordAad(header.bytes, context), header.chunkSize, reader, describe(context));
    } finally {
      key.fill(0);
    }
  } finally {
    await handle.close();
  }
}

/** Plaintext length of a sealed file, from its size alone (nothing is decrypted). */
export async function sealedPlaintextLength(filePath: string, context: SealContext): Promise<number> {
  const handle = await openExisting(filePath, context);
  try {
    const header = await readHeader(handle, context);
    const { size } = await handle.stat();
    const length = plaintextLengthOf(size - SEALED_HEADER_BYTES, header.chunkSize);
    if (length === null) throw new VaultError('CORRUPT_SECRET', `${describe(context)} is truncated`);
    return length;
  } finally {
    await handle.close();
  }
}

/** The whole secret in one buffer, only after every chunk and the end of the file verified. */
export async function readSealedFile(filePath: string, masterKey: Uint8Array, context: SealContext): Promise<Buffer> {
  const plaintext = Buffer.alloc(await sealedPlaintextLength(filePath, context));
  let filled = 0;
  try {
    for await (const chunk of openSealedFile(filePath, masterKey, context)) {
      if (filled + chunk.length > plaintext.length) {
        chunk.fill(0);
        throw new VaultError('CORRUPT_SECRET', `${describe(context)} changed while it was read`);
      }
      chunk.copy(plaintext, filled);
      filled += chunk.length;
      chunk.fill(0);
    }
    if (filled !== plaintext.length) {
      throw new VaultError('CORRUPT_SECRET', `${describe(context)} changed while it was read`);
    }
    return plaintext;
  } catch (error) {
    plaintext.fill(0);
    throw error;
  }
}
