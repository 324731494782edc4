import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from './errors';

export interface StoreOptions {
  maxObjectBytes: number;
  /** 0 = no quota. */
  maxStoreBytes: number;
  /** Objects up to this size are served from memory once read (default 1 MiB; 0 = never). */
  memoryObjectBytes?: number;
  /** Total bytes kept in memory for them, least recently served dropped first (default 64 MiB). */
  memoryCacheBytes?: number;
}

export interface PutResult {
  digest: string;
  size: number;
  created: boolean;
}

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * Content-addressed object store on the filesystem: `objects/<first two hex>/<sha-256 hex>`. Objects are
 * streamed in (to `tmp/`, hashed on the way, fsync'ed, then renamed into place: never half-written) and
 * streamed out; nothing is held in memory whole.
 */
export class ObjectStore {
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private totalBytes = 0;
  private reservedBytes = 0;
  private readonly inFlight = new Map<Readable, Promise<unknown>>();
  private readonly sizes = new Map<string, number>();
  /** Small objects' bytes, in least-recently-served order (Map insertion order). */
  private readonly memory = new Map<string, Buffer>();
  private memoryBytes = 0;
  private readonly reading = new Map<string, Promise<Buffer | null>>();

  constructor(
    root: string,
    private readonly options: StoreOptions,
  ) {
    this.objectsDir = path.join(root, 'objects');
    this.tmpDir = path.join(root, 'tmp');
  }

  /** Creates the folders, removes uploads a crash left behind and counts what is stored. */
  async init(): Promise<void> {
    await mkdir(this.objectsDir, { recursive: true });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    let total = 0;
    for (const shard of await readdir(this.objectsDir)) {
      const dir = path.join(this.objectsDir, shard);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (DIGEST.test(name)) total += (await stat(path.join(dir, name))).size;
      }
    }
    this.totalBytes = total;
  }

  get storedBytes(): number {
    return this.totalBytes;
  }

  pathOf(digest: string): string {
    if (!DIGEST.test(digest)) throw new HttpError('BAD_REQUEST', 'Not a lowercase hex SHA-256 digest');
    return path.join(this.objectsDir, digest.slice(0, 2), digest);
  }

  /**
   * Size of the stored object, or null when it is not stored. Stored objects are immutable and never
   * removed (content-addressed), so a size once seen is remembered (bounded) instead of stat'ed per serve.
   */
  async size(digest: string): Promise<number | null> {
    const known = this.sizes.get(digest);
    if (known !== undefined) return known;
    let size: number;
    try {
      size = (await stat(this.pathOf(digest))).size;
    } catch {
      return null;
    }
    this.rememberSize(digest, size);
    return size;
  }

  private rememberSize(digest: string, size: number): void {
    if (this.sizes.size >= 100_000) this.sizes.clear();
    this.sizes.set(digest, size);
  }

  /**
   * Streams a stored object of `size` bytes. The range and buffer are sized to the object, so a small
   * object is one read of its own size (not a 256 KiB buffer and a second read to find the end).
   */
  openRead(digest: string, size: number): ReadStream {
    return createReadStream(this.pathOf(digest), {
      start: 0,
      end: Math.max(0, size - 1),
      highWaterMark: Math.max(1, Math.min(size, 256 * 1024)),
    });
  }

  /** Whether `size` bytes are served whole from memory (`readCached`) rather than streamed. */
  servedFromMemory(size: number): boolean {
    return size <= (this.options.memoryObjectBytes ?? 1024 * 1024);
  }

  /**
   * A small stored object's bytes (see servedFromMemory), kept in a bounded LRU: stored objects never
   * change (the name is the SHA-256), so serving them from memory saves an open/read/close per request.
   * Concurrent first reads share one. Null when the object is not stored.
   */
  async readCached(digest: string): Promise<Buffer | null> {
    const hit = this.memory.get(digest);
    if (hit) {
      this.memory.delete(digest);
      this.memory.set(digest, hit);
      return hit;
    }
    let pending = this.reading.get(digest);
    if (!pending) {
      pending = this.readSmall(digest, this.options.memoryObjectBytes ?? 1024 * 1024)
        .then((bytes) => {
          if (bytes) this.keep(digest, bytes);
          return bytes;
        })
        .finally(() => this.reading.delete(digest));
      this.reading.set(digest, pending);
    }
    return pending;
  }

  private keep(digest: string, bytes: Buffer): void {
    const budget = this.options.memoryCacheBytes ?? 64 * 1024 * 1024;
    if (bytes.length > budget || this.memory.has(digest)) return;
    this.memoryBytes += bytes.length;
    this.memory.set(digest, bytes);
    for (const [oldest, old] of this.memory) {
      if (this.memoryBytes <= budget) break;
      this.memory.delete(oldest);
      this.memoryBytes -= old.length;
    }
  }

  /** Reads a small object whole (manifests); refuses anything larger than `max` bytes. */
  async readSmall(digest: string, max: number): Promise<Buffer | null> {
    const size = await this.size(digest);
    if (size === null) return null;
    if (size > max) throw new HttpError('INTERNAL', `Object ${digest} is too large to parse`);
    const handle = await open(this.pathOf(digest), 'r');
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  /**
   * Streams `source` into the store under `digest`. The bytes must number `declaredSize` and hash to
   * `digest`; otherwise nothing is stored (DIGEST_MISMATCH). Idempotent: a stored digest answers
   * `created: false` without reading the body.
   */
  async put(digest: string, declaredSize: number, source: Readable): Promise<PutResult> {
    const finalPath = this.pathOf(digest);
    const existing = await this.size(digest);
    if (existing !== null) return { digest, size: existing, created: false };
    if (declaredSize > this.options.maxObjectBytes) {
      throw new HttpError(
        'TOO_LARGE',
        `Object of ${declaredSize} bytes is over the limit of ${this.options.maxObjectBytes}`,
      );
    }
    const quota = this.options.maxStoreBytes;
    if (quota > 0 && this.totalBytes + this.reservedBytes + declaredSize > quota) {
      throw new HttpError('TOO_LARGE', 'The store quota would be exceeded');
    }
    this.reservedBytes += declaredSize;
    const tmpPath = path.join(this.tmpDir, `${digest}.${randomBytes(6).toString('hex')}`);
    const work = this.receive(digest, declaredSize, source, tmpPath, finalPath);
    this.inFlight.set(
      source,
      work.catch(() => undefined),
    );
    try {
      return await work;
    } finally {
      this.inFlight.delete(source);
      this.reservedBytes -= declaredSize;
    }
  }

  private async receive(
    digest: string,
    declaredSize: number,
    source: Readable,
    tmpPath: string,
    finalPath: string,
  ): Promise<PutResult> {
    const hash = createHash('sha256');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > declaredSize) {
          callback(new HttpError('DIGEST_MISMATCH', `More bytes than the declared size ${declaredSize}`));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmpPath, { flags: 'wx' }));
      if (received !== declaredSize) {
        throw new HttpError('DIGEST_MISMATCH', `Received ${received} bytes, declared ${declaredSize}`);
      }
      const actual = hash.digest('hex');
      if (actual !== digest) throw new HttpError('DIGEST_MISMATCH', `The bytes hash to ${actual}, not ${digest}`);
      const handle = await open(tmpPath, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(path.dirname(finalPath), { recursive: true });
      if ((await this.size(digest)) !== null) {
        // A concurrent upload of the same bytes won.
        await rm(tmpPath, { force: true });
        return { digest, size: declaredSize, created: false };
      }
      await rename(tmpPath, finalPath);
      await syncDir(path.dirname(finalPath));
      this.totalBytes += declaredSize;
      this.rememberSize(digest, declaredSize);
      return { digest, size: declaredSize, created: true };
    } catch (error) {
      await rm(tmpPath, { force: true });
      throw error;
    }
  }

  /** Cuts every upload in progress; their temporary files are removed before this resolves. */
  async abortUploads(): Promise<void> {
    const pending = [...this.inFlight.entries()];
    for (const [source] of pending) source.destroy(new Error('gateway shutting down'));
    await Promise.all(pending.map(([, work]) => work));
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await handle.close();
  }
}
