import { createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file';
import { assertChunkSize, decryptChunks, encryptChunks, fileRecordReader } from './chunked-aead';
import { VaultError } from './errors';
import { MAX_SECRETS_PER_PROFILE, profileSummarySchema, secretNamePattern, type ProfileSummary } from './profile-file';

/*
 * Profile backup file, format v1 (all integers big-endian):
 *
 *   offset  size  field
 *        0     8  magic "COSVBKUP"
 *        8     1  format version = 1
 *        9     1  KDF = 1: scrypt
 *       10     1  log2 N
 *       11     1  r
 *       12     1  p
 *       13     3  reserved, zero
 *       16     4  chunk size in plaintext bytes
 *       20    32  salt, random for every backup
 *       52    32  passphrase check = HMAC-SHA256(check key, bytes 0..51)
 *       84     …  records as in sealed files (STREAM over AES-256-GCM); every record's AAD = bytes 0..83
 *
 * passphrase key = scrypt(NFKC(passphrase), salt, N, r, p, 32 bytes)
 * encryption key = HKDF-SHA256(passphrase key, info "cos-custodian/backup/encryption/v1")
 * check key      = HKDF-SHA256(passphrase key, info "cos-custodian/backup/passphrase-check/v1")
 * plaintext      = u32 manifest length ‖ manifest JSON ‖ the bytes of each secret, in manifest order
 */

export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

/** 128 MiB and about 0.4 s per attempt on one core of the reference machine. */
export const DEFAULT_BACKUP_SCRYPT: ScryptParams = { log2N: 17, r: 8, p: 1 };
export const MIN_PASSPHRASE_LENGTH = 12;
const MAX_PASSPHRASE_LENGTH = 1024;
const MIN_DISTINCT_CHARACTERS = 5;

const BACKUP_MAGIC = Buffer.from('COSVBKUP', 'ascii');
const BACKUP_VERSION = 1;
const KDF_SCRYPT = 1;
const CHECKED_HEADER_BYTES = 52;
export const BACKUP_HEADER_BYTES = 84;
const BACKUP_CHUNK_BYTES = 64 * 1024;
const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;

const manifestSchema = z.strictObject({
  format: z.literal('cos-custodian-profile-backup'),
  version: z.literal(1),
  createdAt: z.iso.datetime(),
  profile: profileSummarySchema,
  secrets: z
    .array(
      z.strictObject({
        name: z.string().regex(secretNamePattern),
        size: z
          .number()
          .int()
          .min(0)
          .max(2 ** 40),
      }),
    )
    .max(MAX_SECRETS_PER_PROFILE)
    .refine((secrets) => new Set(secrets.map((s) => s.name)).size === secrets.length, 'Duplicate secret names'),
});

export type BackupManifest = z.infer<typeof manifestSchema>;

function normalizedPassphrase(passphrase: unknown): string {
  if (typeof passphrase !== 'string') throw new VaultError('BAD_INPUT', 'The passphrase must be a string');
  return passphrase.normalize('NFKC');
}

/** A backup is only as strong as its passphrase: refuse the obviously weak ones with a reason. */
export function assertStrongPassphrase(passphrase: unknown): void {
  const characters = [...normalizedPassphrase(passphrase)];
  if (characters.length < MIN_PASSPHRASE_LENGTH) {
    throw new VaultError(
      'WEAK_PASSPHRASE',
      `The backup passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters (it has ${characters.length})`,
    );
  }
  if (characters.length > MAX_PASSPHRASE_LENGTH) {
    throw new VaultError('WEAK_PASSPHRASE', `The backup passphrase has more than ${MAX_PASSPHRASE_LENGTH} characters`);
  }
  if (new Set(characters).size < MIN_DISTINCT_CHARACTERS) {
    throw new VaultError(
      'WEAK_PASSPHRASE',
      `The backup passphrase needs at least ${MIN_DISTINCT_CHARACTERS} different characters`,
    );
  }
}

function assertScryptParams(params: ScryptParams, onBad: (message: string) => VaultError): void {
  const { log2N, r, p } = params;
  const inRange = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;
  if (!inRange(log2N, 15, 20) || !inRange(r, 1, 32) || !inRange(p, 1, 4) || 128 * 2 ** log2N * r > MAX_SCRYPT_MEMORY) {
    throw onBad(`Unsupported scrypt parameters N=2^${log2N} r=${r} p=${p}`);
  }
}

async function derivePassphraseKeys(
  passphrase: string,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<{ encryptionKey: Buffer; checkKey: Buffer }> {
  const N = 2 ** params.log2N;
  const passphraseKey = await new Promise<Buffer>((resolve, reject) => {
    // Runs on the libuv thread pool: the main process stays responsive during the ~0.4 s of work.
    scrypt(passphrase, salt, 32, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
  try {
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', passphraseKey, Buffer.alloc(0), info, 32));
    return {
      encryptionKey: derive('cos-custodian/backup/encryption/v1'),
      checkKey: derive('cos-custodian/backup/passphrase-check/v1'),
    };
  } finally {
    passphraseKey.fill(0);
  }
}

function passphraseCheck(checkKey: Uint8Array, checkedHeader: Uint8Array): Buffer {
  return createHmac('sha256', checkKey).update(checkedHeader).digest();
}

/** One secret to put in a backup: its verified plaintext, streamed. */
export interface BackupSecret {
  name: string;
  size: number;
  content: () => AsyncIterable<Buffer>;
}

async function* backupPlaintext(manifest: BackupManifest, secrets: BackupSecret[]): AsyncGenerator<Buffer> {
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(manifestBytes.length);
  yield length;
  yield manifestBytes;
  for (const secret of secrets) {
    let written = 0;
    for await (const chunk of secret.content()) {
      written += chunk.length;
      yield chunk;
      chunk.fill(0); // encryptChunks has copied it by the time it asks for the next piece
    }
    if (written !== secret.size)
      throw new VaultError('CORRUPT_SECRET', `Secret "${secret.name}" changed during backup`);
  }
}

/** Writes a passphrase-encrypted backup of one profile to `destinationPath`, atomically. */
export async function writeBackupFile(
  destinationPath: string,
  passphrase: string,
  params: ScryptParams,
  profile: ProfileSummary,
  secrets: BackupSecret[],
  now: Date,
): Promise<void> {
  assertStrongPassphrase(passphrase);
  assertScryptParams(params, (message) => new VaultError('BAD_INPUT', message));
  const manifest: BackupManifest = manifestSchema.parse({
    format: 'cos-custodian-profile-backup',
    version: 1,
    createdAt: now.toISOString(),
    profile,
    secrets: secrets.map(({ name, size }) => ({ name, size })),
  });
  const salt = randomBytes(32);
  const header = Buffer.alloc(BACKUP_HEADER_BYTES);
  BACKUP_MAGIC.copy(header, 0);
  header.writeUInt8(BACKUP_VERSION, 8);
  header.writeUInt8(KDF_SCRYPT, 9);
  header.writeUInt8(params.log2N, 10);
  header.writeUInt8(params.r, 11);
  header.writeUInt8(params.p, 12);
  header.writeUInt32BE(BACKUP_CHUNK_BYTES, 16);
  salt.copy(header, 20);
  const { encryptionKey, checkKey } = await derivePassphraseKeys(normalizedPassphrase(passphrase), salt, params);
  try {
    passphraseCheck(checkKey, header.subarray(0, CHECKED_HEADER_BYTES)).copy(header, CHECKED_HEADER_BYTES);
    async function* file(): AsyncGenerator<Buffer> {
      yield header;
      yield* encryptChunks(encryptionKey, header, BACKUP_CHUNK_BYTES, backupPlaintext(manifest, secrets));
    }
    await writeFileAtomic(destinationPath, file());
  } finally {
    encryptionKey.fill(0);
    checkKey.fill(0);
  }
}

/** An opened backup whose passphrase is right and whose manifest is valid; secrets come out in order. */
export class BackupReader {
  readonly #handle: FileHandle;
  readonly #encryptionKey: Buffer;
  readonly #chunks: AsyncGenerator<Buffer>;
  #manifest: BackupManifest | null = null;
  #current: Buffer = Buffer.alloc(0);
  #offset = 0;

  private constructor(handle: FileHandle, header: Buffer, chunkSize: number, encryptionKey: Buffer) {
    this.#handle = handle;
    this.#encryptionKey = encryptionKey;
    this.#chunks = decryptChunks(
      encryptionKey,
      header,
      chunkSize,
      fileRecordReader(handle, BACKUP_HEADER_BYTES),
      'The backup',
    );
  }

  get manifest(): BackupManifest {
    if (this.#manifest === null) throw new VaultError('BAD_INPUT', 'The backup is not open');
    return this.#manifest;
  }

  /** BAD_PASSPHRASE for a wrong passphrase (or an edited header), CORRUPT_SECRET for a damaged file. */
  static async open(sourcePath: string, passphrase: string): Promise<BackupReader> {
    const normalized = normalizedPassphrase(passphrase);
    let handle: FileHandle;
    try {
      handle = await open(sourcePath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new VaultError('BAD_INPUT', 'No such backup file');
      throw error;
    }
    let reader: BackupReader;
    try {
      const { header, chunkSize, params } = await readBackupHeader(handle);
      const { encryptionKey, checkKey } = await derivePassphraseKeys(normalized, header.subarray(20, 52), params);
      const expected = passphraseCheck(checkKey, header.subarray(0, CHECKED_HEADER_BYTES));
      checkKey.fill(0);
      if (!timingSafeEqual(expected, header.subarray(CHECKED_HEADER_BYTES, BACKUP_HEADER_BYTES))) {
        encryptionKey.fill(0);
        throw new VaultError('BAD_PASSPHRASE', 'Wrong passphrase for this backup');
      }
      reader = new BackupReader(handle, header, chunkSize, encryptionKey);
    } catch (error) {
      await handle.close();
      throw error;
    }
    try {
      reader.#manifest = await reader.#readManifest();
      return reader;
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  async #readManifest(): Promise<BackupManifest> {
    const manifestLength = (await this.readExact(4)).readUInt32BE(0);
    if (manifestLength > MAX_MANIFEST_BYTES) throw new VaultError('CORRUPT_SECRET', 'The backup manifest is too large');
    try {
      return manifestSchema.parse(JSON.parse((await this.readExact(manifestLength)).toString('utf8')));
    } catch (error) {
      if (error instanceof VaultError) throw error;
      throw new VaultError('CORRUPT_SECRET', 'The backup manifest is damaged', { cause: error });
    }
  }

  async #fill(): Promise<boolean> {
    while (this.#offset >= this.#current.length) {
      this.#current.fill(0);
      const next = await this.#chunks.next();
      if (next.done) return false;
      this.#current = next.value;
      this.#offset = 0;
    }
    return true;
  }

  /** Exactly `length` plaintext bytes in one buffer; for small items (the wallet key, the manifest). */
  async readExact(length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let filled = 0;
    for await (const piece of this.read(length)) {
      piece.copy(out, filled);
      filled += piece.length;
      piece.fill(0);
    }
    return out;
  }

  /** Exactly `length` plaintext bytes as a stream of copies; the caller may zero them. */
  async *read(length: number): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      if (!(await this.#fill())) throw new VaultError('CORRUPT_SECRET', 'The backup ends too early');
      const take = Math.min(remaining, this.#current.length - this.#offset);
      yield Buffer.from(this.#current.subarray(this.#offset, this.#offset + take));
      this.#offset += take;
      remaining -= take;
    }
  }

  /** Verifies the rest of the file: the final chunk authenticates and nothing follows the last secret. */
  async assertEnd(): Promise<void> {
    if (await this.#fill()) throw new VaultError('CORRUPT_SECRET', 'The backup has data after its last secret');
  }

  async close(): Promise<void> {
    this.#current.fill(0);
    this.#encryptionKey.fill(0);
    await this.#chunks.return(undefined);
    await this.#handle.close();
  }
}

async function readBackupHeader(
  handle: FileHandle,
): Promise<{ header: Buffer; chunkSize: number; params: ScryptParams }> {
  const header = Buffer.alloc(BACKUP_HEADER_BYTES);
  const { bytesRead } = await handle.read(header, 0, BACKUP_HEADER_BYTES, 0);
  const corrupt = (message: string) => new VaultError('CORRUPT_SECRET', message);
  if (bytesRead < BACKUP_HEADER_BYTES || !header.subarray(0, 8).equals(BACKUP_MAGIC)) {
    throw corrupt('This is not a COS Custodian profile backup');
  }
  if (header.readUInt8(8) !== BACKUP_VERSION || header.readUInt8(9) !== KDF_SCRYPT) {
    throw corrupt('This backup has an unsupported format version');
  }
  if (header.readUIntBE(13, 3) !== 0) throw corrupt('This backup has a damaged header');
  const params = { log2N: header.readUInt8(10), r: header.readUInt8(11), p: header.readUInt8(12) };
  assertScryptParams(params, corrupt); // bounds the memory and time a crafted file can demand
  const chunkSize = header.readUInt32BE(16);
  assertChunkSize(chunkSize);
  return { header, chunkSize, params };
}
