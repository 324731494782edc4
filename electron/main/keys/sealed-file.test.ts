import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GCM_TAG_BYTES } from './chunked-aead';
import {
  openSealedFile,
  readSealedFile,
  SEALED_HEADER_BYTES,
  sealedPlaintextLength,
  writeSealedFile,
  type SealContext,
} from './sealed-file';

const CHUNK = 4096;
const RECORD = CHUNK + GCM_TAG_BYTES;
const context: SealContext = { profileId: '6f1c1d0e-2b7a-4c55-9a43-2f1f0d3c9b10', secretName: 'fhe-secret-key' };
let dir: string;
let masterKey: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-sealed-'));
  masterKey = randomBytes(32);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const corrupt = expect.objectContaining({ vaultCode: 'CORRUPT_SECRET' });

async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < data.length; i += 1) {
    const size = sizes[i % sizes.length]!;
    yield Uint8Array.from(data.subarray(offset, offset + size));
    offset += size;
  }
}

async function sealed(name: string, plaintext: Buffer, ctx = context): Promise<string> {
  const file = path.join(dir, name);
  await writeSealedFile(file, masterKey, ctx, plaintext, CHUNK);
  return file;
}

async function streamed(file: string, key = masterKey, ctx = context): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of openSealedFile(file, key, ctx)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('sealed secret files', () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])(
    'round-trips %i bytes from a buffer and from a stream of odd pieces',
    async (length) => {
      const plaintext = randomBytes(length);
      const fromBuffer = await sealed(`buffer-${length}`, plaintext);
      const fromStream = path.join(dir, `stream-${length}`);
      await writeSealedFile(fromStream, masterKey, context, pieces(plaintext, [1, 1000, 5000, 77]), CHUNK);
      for (const file of [fromBuffer, fromStream]) {
        expect(await readSealedFile(file, masterKey, context)).toEqual(plaintext);
        expect(await streamed(file)).toEqual(plaintext);
        expect(await sealedPlaintextLength(file, context)).toBe(length);
        // Full records, then one short final record (possibly just a tag).
        const records = Math.floor(length / CHUNK) + 1;
        expect((await stat(file)).size).toBe(SEALED_HEADER_BYTES + length + records * GCM_TAG_BYTES);
      }
    },
  );

  it('holds no plaintext and no master key bytes, and never repeats itself', async () => {
    const plaintext = randomBytes(10 * CHUNK);
    const first = await readFile(await sealed('plain-a', plaintext));
    const second = await readFile(await sealed('plain-b', plaintext));
    for (let offset = 0; offset + 16 <= plaintext.length; offset += 512) {
      expect(first.indexOf(plaintext.subarray(offset, offset + 16))).toBe(-1);
    }
    expect(first.indexOf(masterKey)).toBe(-1);
    expect(first.indexOf(Buffer.from(masterKey.toString('hex')))).toBe(-1);
    expect(first.subarray(0, 8).toString('ascii')).toBe('COSVSEAL');
    expect(first.subarray(SEALED_HEADER_BYTES).equals(second.subarray(SEALED_HEADER_BYTES))).toBe(false);
  });

  it('binds the profile id and the secret name: a file read under another name or profile fails', async () => {
    const file = await sealed('bound', randomBytes(100));
    await expect(readSealedFile(file, masterKey, { ...context, secretName: 'wallet' })).rejects.toEqual(corrupt);
    await expect(
      readSealedFile(file, masterKey, { ...context, profileId: '0d3c9b10-2b7a-4c55-9a43-6f1c1d0e2f1f' }),
    ).rejects.toEqual(corrupt);
    await expect(readSealedFile(file, randomBytes(32), context)).rejects.toEqual(corrupt);
  });

  it('detects two sealed files swapped on disk', async () => {
    const a = await sealed('swap-a', randomBytes(64), { ...context, secretName: 'swap-a' });
    const b = await sealed('swap-b', randomBytes(64), { ...context, secretName: 'swap-b' });
    await rename(a, `${a}.x`);
    await rename(b, a);
    await rename(`${a}.x`, b);
    await expect(readSealedFile(a, masterKey, { ...context, secretName: 'swap-a' })).rejects.toEqual(corrupt);
    await expect(readSealedFile(b, masterKey, { ...context, secretName: 'swap-b' })).rejects.toEqual(corrupt);
  });

  it.each([
    ['magic', 0],
    ['version', 8],
    ['reserved', 10],
    ['chunk size', 14],
    ['salt', 30],
    ['first record', SEALED_HEADER_BYTES + 5],
    ['a middle record', SEALED_HEADER_BYTES + RECORD + 100],
    ['the last tag', -1],
  ])('detects one flipped bit in the %s', async (_where, offset) => {
    const file = await sealed(`flip-${offset}`, randomBytes(2 * CHUNK + 10));
    const bytes = await readFile(file);
    const at = offset < 0 ? bytes.length + offset : offset;
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(file, bytes);
    await expect(readSealedFile(file, masterKey, context)).rejects.toEqual(corrupt);
    await expect(streamed(file)).rejects.toEqual(corrupt);
  });

  it.each([
    ['drops the final record', (b: Buffer) => b.subarray(0, SEALED_HEADER_BYTES + 2 * RECORD)],
    ['cuts a record short', (b: Buffer) => b.subarray(0, b.length - 3)],
    ['keeps only the header', (b: Buffer) => b.subarray(0, SEALED_HEADER_BYTES)],
    ['appends bytes', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
    [
      'appends a whole record',
      (b: Buffer) => Buffer.concat([b, b.subarray(SEALED_HEADER_BYTES, SEALED_HEADER_BYTES + RECORD)]),
    ],
    [
      'swaps two records',
      (b: Buffer) =>
        Buffer.concat([
          b.subarray(0, SEALED_HEADER_BYTES),
          b.subarray(SEALED_HEADER_BYTES + RECORD, SEALED_HEADER_BYTES + 2 * RECORD),
          b.subarray(SEALED_HEADER_BYTES, SEALED_HEADER_BYTES + RECORD),
          b.subarray(SEALED_HEADER_BYTES + 2 * RECORD),
        ]),
    ],
  ])('detects a file that %s', async (name, edit) => {
    const file = await sealed(`edit-${name}`, randomBytes(2 * CHUNK + 10));
    await writeFile(file, edit(await readFile(file)));
    await expect(readSealedFile(file, masterKey, context)).rejects.toEqual(corrupt);
    await expect(streamed(file)).rejects.toEqual(corrupt);
  });

  it('reports a missing file as SECRET_NOT_FOUND', async () => {
    await expect(readSealedFile(path.join(dir, 'absent'), masterKey, context)).rejects.toEqual(
      expect.objectContaining({ vaultCode: 'SECRET_NOT_FOUND' }),
    );
  });
});
