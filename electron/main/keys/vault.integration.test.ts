import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { computeAddress, Transaction, verifyMessage, verifyTypedData, type TypedDataField } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint';
import { KeytarKeychain } from './keychain';
import { readSealedFile } from './sealed-file';
import { filesUnder, keytar, removeKeychainService, runVaultChild, testKeychainService } from './testing/integration';
import { Vault } from './vault';

// Runs inside the private D-Bus session with an unlocked throwaway gnome-keyring that `npm test` sets up.
const service = testKeychainService();
const restoreService = testKeychainService();
const passphrase = 'granite otter 42 lantern';
let workDir: string;
let dataDir: string;
let vault: Vault;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'cos-vault-it-'));
  dataDir = path.join(workDir, 'data');
  vault = new Vault({ dataDir, keychain: new KeytarKeychain(), keychainService: service });
});

afterAll(async () => {
  await removeKeychainService(service);
  await removeKeychainService(restoreService);
  await rm(workDir, { recursive: true, force: true });
});

const code = (vaultCode: string) => expect.objectContaining({ vaultCode });

async function masterKeyFromKeychain(keychainService: string, profileId: string): Promise<Buffer> {
  const stored = await keytar.getPassword(keychainService, `profile:${profileId}`);
  expect(stored).toMatch(/^cos-vault-master-v1:[A-Za-z0-9+/]{43}=$/);
  return Buffer.from(stored!.split(':')[1]!, 'base64');
}

/** The wallet key, recovered the way only a test may: master key from keytar, then the sealed file. */
async function walletKeyBehindTheVault(dir: string, keychainService: string, profileId: string): Promise<Buffer> {
  const masterKey = await masterKeyFromKeychain(keychainService, profileId);
  const file = path.join(dir, 'profiles', profileId, 'secrets', 'wallet.sealed');
  return readSealedFile(file, masterKey, { profileId, secretName: 'wallet' });
}

const domain = { name: 'COS Access', version: '1', chainId: 31337, verifyingContract: `0x${'11'.repeat(20)}` };
const types: Record<string, TypedDataField[]> = {
  JobPermit: [
    { name: 'grantId', type: 'uint256' },
    { name: 'algorithm', type: 'string' },
    { name: 'maxRuns', type: 'uint32' },
  ],
};
const permit = { grantId: 12n, algorithm: 'gwas-allele-count', maxRuns: 3 };

describe('profiles', () => {
  it('creates, lists, reads and deletes profiles of every role', async () => {
    const steward = await vault.createProfile({ label: 'Ward 4 steward', role: 'steward' });
    const donor = await vault.createProfile({ label: 'Donor A', role: 'donor' });
    const lab = await vault.createProfile({ label: '  Lab B  ', role: 'lab' });
    expect(lab.label).toBe('Lab B');
    expect(new Set([steward.address, donor.address, lab.address]).size).toBe(3);
    expect((await vault.listProfiles()).map((p) => [p.id, p.role])).toEqual([
      [steward.id, 'steward'],
      [donor.id, 'donor'],
      [lab.id, 'lab'],
    ]);
    expect(await vault.getProfile(donor.id)).toEqual(donor);

    const profileDir = path.join(dataDir, 'profiles', steward.id);
    const metadata = JSON.parse(await readFile(path.join(profileDir, 'profile.json'), 'utf8'));
    expect(Object.keys(metadata).sort()).toEqual(
      ['address', 'createdAt', 'fingerprints', 'format', 'id', 'integrity', 'label', 'role', 'version'].sort(),
    );
    expect(metadata.fingerprints).toEqual({ wallet: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/) });
    expect((await stat(profileDir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(profileDir, 'profile.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(profileDir, 'secrets', 'wallet.sealed'))).mode & 0o777).toBe(0o600);

    await vault.deleteProfile(donor.id);
    expect((await vault.listProfiles()).map((p) => p.id)).toEqual([steward.id, lab.id]);
    await expect(vault.getProfile(donor.id)).rejects.toEqual(code('PROFILE_NOT_FOUND'));
    await expect(vault.unlock(donor.id)).rejects.toEqual(code('PROFILE_NOT_FOUND'));
    await expect(vault.deleteProfile(donor.id)).rejects.toEqual(code('PROFILE_NOT_FOUND'));
    expect(await keytar.getPassword(service, `profile:${donor.id}`)).toBeNull();
    expect(await readdir(path.join(dataDir, 'profiles'))).not.toContain(donor.id);
  });

  it('keeps each master key in the OS keychain, and that key opens the wallet', async () => {
    const first = await vault.createProfile({ label: 'First', role: 'steward' });
    const second = await vault.createProfile({ label: 'Second', role: 'steward' });
    const firstKey = await masterKeyFromKeychain(service, first.id);
    expect(firstKey).toHaveLength(32);
    expect(firstKey.equals(await masterKeyFromKeychain(service, second.id))).toBe(false);
    const walletKey = await walletKeyBehindTheVault(dataDir, service, first.id);
    expect(walletKey).toHaveLength(32);
    expect(computeAddress(`0x${walletKey.toString('hex')}`)).toBe(first.address);
  });

  it('reports MASTER_KEY_MISSING, not a locked keychain, when the entry was removed', async () => {
    const profile = await vault.createProfile({ label: 'Orphaned', role: 'donor' });
    await keytar.deletePassword(service, `profile:${profile.id}`);
    await expect(vault.unlock(profile.id)).rejects.toEqual(code('MASTER_KEY_MISSING'));
  });
});

describe('sealed secrets', () => {
  it('writes no plaintext key bytes to any file', async () => {
    const profile = await vault.createProfile({ label: 'Sealing', role: 'steward' });
    const unlocked = await vault.unlock(profile.id);
    const fheSecretKey = randomBytes(3 * 1024 * 1024 + 123);
    await unlocked.writeSecret('fhe-sk', fheSecretKey);
    unlocked.lock();
    const walletKey = await walletKeyBehindTheVault(dataDir, service, profile.id);
    const masterKey = await masterKeyFromKeychain(service, profile.id);
    const needles = [walletKey, masterKey].flatMap((key) => [
      key,
      Buffer.from(key.toString('hex')),
      Buffer.from(key.toString('hex').toUpperCase()),
      Buffer.from(key.toString('base64')),
    ]);
    for (let offset = 0; offset + 32 <= fheSecretKey.length; offset += 64 * 1024 - 7) {
      needles.push(fheSecretKey.subarray(offset, offset + 32));
    }
    const files = await filesUnder(path.join(dataDir, 'profiles', profile.id));
    expect([...files.keys()].sort()).toEqual(['profile.json', 'secrets/fhe-sk.sealed', 'secrets/wallet.sealed']);
    for (const [name, content] of files) {
      for (const needle of needles) expect({ name, at: content.indexOf(needle) }).toEqual({ name, at: -1 });
    }
  });

  it('reads, streams, replaces and deletes secrets, keeping fingerprints in the metadata', async () => {
    const profile = await vault.createProfile({ label: 'Secrets', role: 'lab' });
    const unlocked = await vault.unlock(profile.id);
    const secretKey = randomBytes(200_000);
    const publicKey = randomBytes(1000);
    async function* inPieces(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < secretKey.length; offset += 30_001)
        yield secretKey.subarray(offset, offset + 30_001);
    }
    await unlocked.writeSecret('fhe-sk', inPieces(), { publicKey });
    expect(unlocked.profile.fingerprints['fhe-sk']).toBe(fingerprint(publicKey));
    expect((await vault.getProfile(profile.id)).fingerprints['fhe-sk']).toBe(fingerprint(publicKey));
    expect((await unlocked.readSecret('fhe-sk')).equals(secretKey)).toBe(true);
    const streamed: Buffer[] = [];
    for await (const chunk of unlocked.readSecretStream('fhe-sk')) streamed.push(Buffer.from(chunk));
    expect(Buffer.concat(streamed).equals(secretKey)).toBe(true);
    expect(await unlocked.listSecrets()).toEqual(['fhe-sk', 'wallet']);

    const reopened = await vault.unlock(profile.id);
    expect((await reopened.readSecret('fhe-sk')).equals(secretKey)).toBe(true);
    await reopened.writeSecret('fhe-sk', Buffer.from('replaced'));
    expect(reopened.profile.fingerprints['fhe-sk']).toBeUndefined();
    expect((await unlocked.readSecret('fhe-sk')).toString()).toBe('replaced');
    await reopened.deleteSecret('fhe-sk');
    await expect(unlocked.readSecret('fhe-sk')).rejects.toEqual(code('SECRET_NOT_FOUND'));
    await expect(reopened.deleteSecret('fhe-sk')).rejects.toEqual(code('SECRET_NOT_FOUND'));
    expect(await reopened.listSecrets()).toEqual(['wallet']);
    unlocked.lock();
    reopened.lock();
  });

  it('detects sealed files swapped within a profile or moved between profiles', async () => {
    const a = await vault.createProfile({ label: 'Swap A', role: 'steward' });
    const b = await vault.createProfile({ label: 'Swap B', role: 'steward' });
    const unlocked = await vault.unlock(a.id);
    await unlocked.writeSecret('first', Buffer.from('first secret'));
    await unlocked.writeSecret('second', Buffer.from('second secret'));
    const secretsDir = path.join(dataDir, 'profiles', a.id, 'secrets');
    await rename(path.join(secretsDir, 'first.sealed'), path.join(secretsDir, 'tmp.sealed'));
    await rename(path.join(secretsDir, 'second.sealed'), path.join(secretsDir, 'first.sealed'));
    await rename(path.join(secretsDir, 'tmp.sealed'), path.join(secretsDir, 'second.sealed'));
    await expect(unlocked.readSecret('first')).rejects.toEqual(code('CORRUPT_SECRET'));
    await expect(unlocked.readSecret('second')).rejects.toEqual(code('CORRUPT_SECRET'));
    unlocked.lock();

    const walletOfA = await readFile(path.join(secretsDir, 'wallet.sealed'));
    await writeFile(path.join(dataDir, 'profiles', b.id, 'secrets', 'wallet.sealed'), walletOfA);
    await expect(vault.unlock(b.id)).rejects.toEqual(code('CORRUPT_SECRET'));
  });

  it('loses nothing when a writer is killed in the middle of replacing a secret', async () => {
    const profile = await vault.createProfile({ label: 'Crash', role: 'steward' });
    const unlocked = await vault.unlock(profile.id);
    const previous = randomBytes(2 * 1024 * 1024);
    await unlocked.writeSecret('fhe-sk', previous);
    const secretsDir = path.join(dataDir, 'profiles', profile.id, 'secrets');

    let sawTempFile = false;
    const run = await runVaultChild(['slow-write', dataDir, service, profile.id, 'fhe-sk'], {
      onLine: async (line) => {
        if (!line.writing) return false;
        sawTempFile = (await readdir(secretsDir)).some((name) => /^fhe-sk\.sealed\.[0-9a-f]+\.tmp$/.test(name));
        return true; // SIGKILL now, with the new version half written
      },
    });
    expect(run.code).toBeNull();
    expect(sawTempFile).toBe(true);
    expect((await unlocked.readSecret('fhe-sk')).equals(previous)).toBe(true);
    expect(await unlocked.listSecrets()).toEqual(['fhe-sk', 'wallet']);
    unlocked.lock();
    const reopened = await vault.unlock(profile.id);
    expect((await reopened.readSecret('fhe-sk')).equals(previous)).toBe(true);

    // Crash leftovers: the half-written file, and a profile folder whose creation never finished.
    const orphanId = '0d3c9b10-2b7a-4c55-9a43-6f1c1d0e2f1f';
    await mkdir(path.join(dataDir, 'profiles', `.staging-${orphanId}-0badf00d`, 'secrets'), { recursive: true });
    await keytar.setPassword(service, `profile:${orphanId}`, 'cos-vault-master-v1:orphan');
    expect(await vault.sweepStaleFiles({ olderThanMs: 0 })).toBe(2);
    expect((await readdir(secretsDir)).sort()).toEqual(['fhe-sk.sealed', 'wallet.sealed']);
    expect((await readdir(path.join(dataDir, 'profiles'))).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(await keytar.getPassword(service, `profile:${orphanId}`)).toBeNull();
    expect((await reopened.readSecret('fhe-sk')).equals(previous)).toBe(true);
    reopened.lock();
  });
});

describe('signing inside the vault', () => {
  it('signs messages, typed data and transactions that verify against the profile address', async () => {
    const profile = await vault.createProfile({ label: 'Signer', role: 'steward' });
    const unlocked = await vault.unlock(profile.id);
    const { signer } = unlocked;
    expect(signer.address).toBe(profile.address);
    expect(verifyMessage('approve grant 12', await signer.signMessage('approve grant 12'))).toBe(profile.address);
    expect(verifyTypedData(domain, types, permit, await signer.signTypedData(domain, types, permit))).toBe(
      profile.address,
    );
    const raw = await signer.signTransaction({
      chainId: 31337n,
      nonce: 0,
      to: `0x${'33'.repeat(20)}`,
      gasLimit: 21_000n,
      maxFeePerGas: 2n * 10n ** 9n,
      maxPriorityFeePerGas: 10n ** 9n,
      type: 2,
    });
    expect(Transaction.from(raw).from).toBe(profile.address);

    const other = await vault.unlock(profile.id);
    unlocked.lock();
    expect(unlocked.locked).toBe(true);
    await expect(signer.signMessage('after lock')).rejects.toEqual(code('PROFILE_LOCKED'));
    expect(verifyMessage('still open', await other.signer.signMessage('still open'))).toBe(profile.address);
    other.lock();
  });
});

describe('backup and restore', () => {
  let source: Awaited<ReturnType<Vault['createProfile']>>;
  let backupFile: string;
  let fheSecretKey: Buffer;
  let restoreDir: string;
  let restoreVault: Vault;

  beforeAll(async () => {
    source = await vault.createProfile({ label: 'Backed up', role: 'lab' });
    const unlocked = await vault.unlock(source.id);
    fheSecretKey = randomBytes(1024 * 1024 + 5);
    await unlocked.writeSecret('fhe-sk', fheSecretKey, { publicKey: Buffer.from('fhe public key') });
    source = unlocked.profile;
    unlocked.lock();
    backupFile = path.join(workDir, 'backed-up.cosbackup');
    await vault.exportBackup(source.id, passphrase, backupFile);
    restoreDir = path.join(workDir, 'restored');
    restoreVault = new Vault({ dataDir: restoreDir, keychain: new KeytarKeychain(), keychainService: restoreService });
  });

  async function restoreState(): Promise<unknown> {
    return { files: await filesUnder(restoreDir), keychain: await keytar.findCredentials(restoreService) };
  }

  it('refuses a weak passphrase with a clear reason', async () => {
    await expect(vault.exportBackup(source.id, 'short', path.join(workDir, 'weak'))).rejects.toThrow(
      /at least 12 characters/,
    );
    await expect(stat(path.join(workDir, 'weak'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives BAD_PASSPHRASE for a wrong passphrase and changes nothing', async () => {
    const before = await restoreState();
    await expect(restoreVault.restoreBackup(backupFile, 'granite otter 43 lantern')).rejects.toEqual(
      code('BAD_PASSPHRASE'),
    );
    expect(await restoreState()).toEqual(before);
  });

  it('gives CORRUPT_SECRET for a tampered or truncated backup and changes nothing', async () => {
    const bytes = await readFile(backupFile);
    const tampered = path.join(workDir, 'tampered.cosbackup');
    for (const edit of [
      (b: Buffer) => (b.writeUInt8(b[b.length - 4000]! ^ 1, b.length - 4000), b), // inside the FHE key
      (b: Buffer) => b.subarray(0, b.length - 70_000), // a whole chunk and more missing
      (b: Buffer) => Buffer.concat([b, Buffer.alloc(16)]),
    ]) {
      await writeFile(tampered, edit(Buffer.from(bytes)));
      const before = await restoreState();
      await expect(restoreVault.restoreBackup(tampered, passphrase)).rejects.toEqual(code('CORRUPT_SECRET'));
      expect(await restoreState()).toEqual(before);
    }
  });

  it('restores into a fresh data folder and keychain account with the same address and signatures', async () => {
    const restored = await restoreVault.restoreBackup(backupFile, passphrase);
    expect(restored).toEqual(source);
    expect(await restoreVault.listProfiles()).toEqual([source]);
    const sourceKey = await masterKeyFromKeychain(service, source.id);
    const restoredKey = await masterKeyFromKeychain(restoreService, source.id);
    expect(restoredKey.equals(sourceKey)).toBe(false); // a new master key on the new machine

    const original = await vault.unlock(source.id);
    const copy = await restoreVault.unlock(source.id);
    expect(copy.signer.address).toBe(source.address);
    expect(await copy.signer.signMessage('same key')).toBe(await original.signer.signMessage('same key'));
    expect(await copy.signer.signTypedData(domain, types, permit)).toBe(
      await original.signer.signTypedData(domain, types, permit),
    );
    expect((await copy.readSecret('fhe-sk')).equals(fheSecretKey)).toBe(true);
    expect(await copy.listSecrets()).toEqual(['fhe-sk', 'wallet']);
    original.lock();
    copy.lock();

    await expect(restoreVault.restoreBackup(backupFile, passphrase)).rejects.toEqual(code('PROFILE_EXISTS'));
    expect(await restoreVault.listProfiles()).toEqual([source]);
  });
});
