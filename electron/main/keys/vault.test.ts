import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryKeychain } from './testing/memory-keychain';
import { Vault } from './vault';

// Input validation and metadata tamper detection; everything touching the keychain runs for real in
// vault.integration.test.ts.
let dataDir: string;
let vault: Vault;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cos-vault-unit-'));
  vault = new Vault({ dataDir, keychain: new MemoryKeychain() });
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const code = (vaultCode: string) => expect.objectContaining({ vaultCode });

describe('Vault input checks', () => {
  it('refuses bad labels and roles', async () => {
    await expect(vault.createProfile({ label: '  ', role: 'steward' })).rejects.toEqual(code('BAD_INPUT'));
    await expect(vault.createProfile({ label: 'x'.repeat(65), role: 'lab' })).rejects.toEqual(code('BAD_INPUT'));
    await expect(vault.createProfile({ label: 'bell\u0007', role: 'lab' })).rejects.toEqual(code('BAD_INPUT'));
    await expect(vault.createProfile({ label: 'Admin', role: 'admin' as never })).rejects.toEqual(code('BAD_INPUT'));
    expect(await vault.listProfiles()).toEqual([]);
  });

  it('refuses profile ids that are not UUIDs, so no path can be smuggled in', async () => {
    for (const id of ['../profiles', '', 'ABC', '6F1C1D0E-2B7A-4C55-9A43-2F1F0D3C9B10', 42]) {
      await expect(vault.unlock(id as string)).rejects.toEqual(code('BAD_INPUT'));
      await expect(vault.deleteProfile(id as string)).rejects.toEqual(code('BAD_INPUT'));
    }
    await expect(vault.getProfile('6f1c1d0e-2b7a-4c55-9a43-2f1f0d3c9b10')).rejects.toEqual(code('PROFILE_NOT_FOUND'));
  });

  it('refuses bad secret names and keeps the wallet key out of the secret API', async () => {
    const created = await vault.createProfile({ label: 'Lab', role: 'lab' });
    const unlocked = await vault.unlock(created.id);
    for (const name of ['../x', 'A', '.hidden', 'a/b', '', 'x'.repeat(65)]) {
      await expect(unlocked.writeSecret(name, Buffer.from('v'))).rejects.toEqual(code('BAD_INPUT'));
    }
    await expect(unlocked.readSecret('wallet')).rejects.toEqual(code('BAD_INPUT'));
    await expect(unlocked.writeSecret('wallet', Buffer.alloc(32))).rejects.toEqual(code('BAD_INPUT'));
    await expect(unlocked.deleteSecret('wallet')).rejects.toEqual(code('BAD_INPUT'));
    unlocked.lock();
    await expect(unlocked.readSecret('fhe-sk')).rejects.toEqual(code('PROFILE_LOCKED'));
  });
});

describe('profile metadata integrity', () => {
  it.each([
    ['label', (p: Record<string, unknown>) => ({ ...p, label: 'Someone else' })],
    ['role', (p: Record<string, unknown>) => ({ ...p, role: 'donor' })],
    ['address', (p: Record<string, unknown>) => ({ ...p, address: `0x${'12'.repeat(20)}` })],
    ['fingerprints', (p: Record<string, unknown>) => ({ ...p, fingerprints: { wallet: '0000 '.repeat(7) + '0000' } })],
  ])('detects an edited %s at unlock', async (_field, edit) => {
    const created = await vault.createProfile({ label: 'Ward 4', role: 'steward' });
    const file = path.join(dataDir, 'profiles', created.id, 'profile.json');
    await writeFile(file, JSON.stringify(edit(JSON.parse(await readFile(file, 'utf8')))));
    await expect(vault.unlock(created.id)).rejects.toEqual(code('CORRUPT_SECRET'));
  });

  it('lists the other profiles when one metadata file is damaged', async () => {
    const damaged = await vault.createProfile({ label: 'Damaged', role: 'donor' });
    const healthy = await vault.createProfile({ label: 'Healthy', role: 'donor' });
    await writeFile(path.join(dataDir, 'profiles', damaged.id, 'profile.json'), '{"format":');
    expect((await vault.listProfiles()).map((p) => p.id)).toEqual([healthy.id]);
    await expect(vault.unlock(damaged.id)).rejects.toEqual(code('CORRUPT_SECRET'));
  });
});
