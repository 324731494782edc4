import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-file';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-atomic-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole, owner-only, leaving no temporary file', async () => {
    const file = path.join(dir, 'secret.sealed');
    await writeFileAtomic(file, Buffer.from('first'));
    await writeFileAtomic(file, Buffer.from('second'));
    expect(await readFile(file, 'utf8')).toBe('second');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['secret.sealed']);
  });

  it('keeps the previous version when the content fails half-way', async () => {
    const file = path.join(dir, 'kept.sealed');
    await writeFileAtomic(file, Buffer.from('previous'));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(100_000, 1);
      throw new Error('producer died');
    }
    await expect(writeFileAtomic(file, failing())).rejects.toThrow('producer died');
    expect(await readFile(file, 'utf8')).toBe('previous');
    expect((await readdir(dir)).filter((name) => name.startsWith('kept'))).toEqual(['kept.sealed']);
  });
});
