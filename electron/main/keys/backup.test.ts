import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertStrongPassphrase,
  BACKUP_HEADER_BYTES,
  BackupReader,
  writeBackupFile,
  type BackupSecret,
} from './backup';
import type { ProfileSummary } from './profile-file';

// The lowest accepted cost keeps these format tests light; the integration tests use the default.
const lightScrypt = { log2N: 15, r: 8, p: 1 };
const passphrase = 'correct horse battery staple';
const profile: ProfileSummary = {
  id: '6f1c1d0e-2b7a-4c55-9a43-2f1f0d3c9b10',
  label: 'Ward 4 steward',
  role: 'steward',
  address: `0x${'ab'.repeat(20)}`,
  fingerprints: { wallet: '0123 4567 89ab cdef 0123 4567 89ab cdef' },
  createdAt: '2025-01-02T03:04:05.000Z',
};
const secretBytes = { wallet: randomBytes(32), 'fhe-sk': randomBytes(200_000) };
let dir: string;
let backupFile: string;

function secrets(): BackupSecret[] {
  return Object.entries(secretBytes).map(([name, bytes]) => ({
    name,
    size: bytes.length,
    content: async function* () {
      for (let offset = 0; offset < bytes.length; offset += 50_000)
        yield Buffer.from(bytes.subarray(offset, offset + 50_000));
    },
  }));
}

async function readAll(file: string, phrase = passphrase): Promise<Record<string, Buffer>> {
  const reader = await BackupReader.open(file, phrase);
  try {
    const out: Record<string, Buffer> = {};
    for (const { name, size } of reader.manifest.secrets) out[name] = await reader.readExact(size);
    await reader.assertEnd();
    return out;
  } finally {
    await reader.close();
  }
}

// Buffer.equals: toEqual walks large buffers byte by byte and takes seconds.
function sameSecrets(actual: Record<string, Buffer>): boolean {
  const names = Object.keys(secretBytes) as (keyof typeof secretBytes)[];
  return Object.keys(actual).length === names.length && names.every((name) => actual[name]?.equals(secretBytes[name]));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-backup-'));
  backupFile = path.join(dir, 'profile.cosbackup');
  await writeBackupFile(backupFile, passphrase, lightScrypt, profile, secrets(), new Date());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const code = (vaultCode: string) => expect.objectContaining({ vaultCode });

describe('passphrase strength', () => {
  it('needs at least 12 characters and some variety, with a reason', () => {
    expect(() => assertStrongPassphrase('short-pass1')).toThrow(/at least 12 characters \(it has 11\)/);
    expect(() => assertStrongPassphrase('aaaaaaaaaaaaaaaa')).toThrow(code('WEAK_PASSPHRASE'));
    expect(() => assertStrongPassphrase('ababababababab')).toThrow(/different characters/);
    expect(() => assertStrongPassphrase(42)).toThrow(code('BAD_INPUT'));
    expect(() => assertStrongPassphrase('Übung macht den Meister')).not.toThrow();
  });

  it('refuses to write a backup under a weak passphrase', async () => {
    const target = path.join(dir, 'weak.cosbackup');
    await expect(writeBackupFile(target, 'too-short', lightScrypt, profile, secrets(), new Date())).rejects.toEqual(
      code('WEAK_PASSPHRASE'),
    );
    await expect(readFile(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('backup file format', () => {
  it('round-trips the manifest and every secret, with no plaintext in the file', async () => {
    const reader = await BackupReader.open(backupFile, passphrase);
    expect(reader.manifest.profile).toEqual(profile);
    expect(reader.manifest.secrets).toEqual([
      { name: 'wallet', size: 32 },
      { name: 'fhe-sk', size: 200_000 },
    ]);
    await reader.close();
    expect(sameSecrets(await readAll(backupFile))).toBe(true);
    const bytes = await readFile(backupFile);
    expect(bytes.indexOf(secretBytes.wallet)).toBe(-1);
    expect(bytes.indexOf(secretBytes['fhe-sk'].subarray(1000, 1032))).toBe(-1);
    expect(bytes.indexOf(Buffer.from(profile.label))).toBe(-1);
  });

  it('accepts the same passphrase in another Unicode normalization form', async () => {
    const file = path.join(dir, 'unicode.cosbackup');
    await writeBackupFile(file, 'Übung macht den Meister', lightScrypt, profile, secrets(), new Date());
    expect(sameSecrets(await readAll(file, 'U\u0308bung macht den Meister'))).toBe(true);
  });

  it('tells a wrong passphrase from a damaged file', async () => {
    await expect(BackupReader.open(backupFile, 'not the passphrase')).rejects.toEqual(code('BAD_PASSPHRASE'));
    const bytes = await readFile(backupFile);
    const damaged = path.join(dir, 'damaged.cosbackup');
    for (const offset of [BACKUP_HEADER_BYTES + 3, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const copy = Buffer.from(bytes);
      copy[offset] = copy[offset]! ^ 0x80;
      await writeFile(damaged, copy);
      await expect(readAll(damaged)).rejects.toEqual(code('CORRUPT_SECRET'));
    }
    await writeFile(damaged, bytes.subarray(0, bytes.length - 100));
    await expect(readAll(damaged)).rejects.toEqual(code('CORRUPT_SECRET'));
    await writeFile(damaged, Buffer.from('not a backup at all, just some text that is long enough to hold a header'));
    await expect(readAll(damaged)).rejects.toEqual(code('CORRUPT_SECRET'));
  });

  it('refuses scrypt costs a crafted file could use to exhaust memory, before running scrypt', async () => {
    const copy = Buffer.from(await readFile(backupFile));
    copy[10] = 30; // N = 2^30: 128 GiB
    const crafted = path.join(dir, 'crafted.cosbackup');
    await writeFile(crafted, copy);
    const started = Date.now();
    await expect(BackupReader.open(crafted, passphrase)).rejects.toEqual(code('CORRUPT_SECRET'));
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
