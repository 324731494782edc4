import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStore } from './store';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const dirs: string[] = [];
async function store(
  options: ConstructorParameters<typeof ObjectStore>[1] = { maxObjectBytes: 1 << 20, maxStoreBytes: 0 },
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-store-'));
  dirs.push(dir);
  const result = new ObjectStore(dir, options);
  await result.init();
  return { dir, store: result };
}
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('object store', () => {
  it('stores streamed bytes under their SHA-256, once', async () => {
    const { dir, store: s } = await store();
    const bytes = randomBytes(300_000);
    const digest = sha(bytes);
    expect(await s.put(digest, bytes.length, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]))).toEqual({
      digest,
      size: bytes.length,
      created: true,
    });
    expect(readFileSync(path.join(dir, 'objects', digest.slice(0, 2), digest)).equals(bytes)).toBe(true);
    expect(await s.put(digest, bytes.length, Readable.from([]))).toMatchObject({ created: false });
    expect(s.storedBytes).toBe(bytes.length);
    const reopened = new ObjectStore(dir, { maxObjectBytes: 1 << 20, maxStoreBytes: 0 });
    await reopened.init();
    expect(reopened.storedBytes).toBe(bytes.length);
  });

  it('stores nothing when the bytes, their count or the limits disagree', async () => {
    const { dir, store: s } = await store({ maxObjectBytes: 1000, maxStoreBytes: 1500 });
    const bytes = randomBytes(800);
    const other = randomBytes(800);
    await expect(s.put(sha(bytes), 800, Readable.from([other]))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(s.put(sha(bytes), 800, Readable.from([bytes, Buffer.from('x')]))).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    await expect(s.put(sha(bytes), 801, Readable.from([bytes]))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(s.put(sha(randomBytes(1001)), 1001, Readable.from([]))).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(await s.put(sha(bytes), 800, Readable.from([bytes]))).toMatchObject({ created: true });
    await expect(s.put(sha(other), 800, Readable.from([other]))).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(await s.size(sha(other))).toBeNull();
  });

  it('removes an upload cut off by shutdown', async () => {
    const { dir, store: s } = await store();
    const source = new PassThrough();
    const bytes = randomBytes(10_000);
    const put = s.put(sha(bytes), bytes.length, source);
    source.write(bytes.subarray(0, 5_000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readdirSync(path.join(dir, 'tmp'))).toHaveLength(1);
    await s.abortUploads();
    await expect(put).rejects.toThrow();
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(await s.size(sha(bytes))).toBeNull();
  });

  it('serves small objects from a bounded memory cache, and streams exact ranges', async () => {
    const { store: s } = await store({
      maxObjectBytes: 1 << 20,
      maxStoreBytes: 0,
      memoryObjectBytes: 4096,
      memoryCacheBytes: 8192,
    });
    const objects = [randomBytes(4096), randomBytes(4000), randomBytes(3000), randomBytes(5000)];
    for (const bytes of objects) await s.put(sha(bytes), bytes.length, Readable.from([bytes]));
    expect(s.servedFromMemory(4096)).toBe(true);
    expect(s.servedFromMemory(5000)).toBe(false);
    // Concurrent first reads share one; every read returns the stored bytes.
    const [a, b] = await Promise.all([s.readCached(sha(objects[0]!)), s.readCached(sha(objects[0]!))]);
    expect(a!.equals(objects[0]!)).toBe(true);
    expect(b).toBe(a);
    for (const bytes of objects.slice(0, 3)) expect((await s.readCached(sha(bytes)))!.equals(bytes)).toBe(true);
    // Over the 8 KiB budget: the least recently served (objects[0]) was dropped and is read again from disk.
    const again = await s.readCached(sha(objects[0]!));
    expect(again).not.toBe(a);
    expect(again!.equals(objects[0]!)).toBe(true);
    expect(await s.readCached(sha(randomBytes(10)))).toBeNull();
    const chunks: Buffer[] = [];
    for await (const chunk of s.openRead(sha(objects[3]!), 5000)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(objects[3]!)).toBe(true);
    expect(await s.size(sha(objects[3]!))).toBe(5000);
  });
});
