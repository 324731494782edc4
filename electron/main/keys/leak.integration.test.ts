import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeytarKeychain } from './keychain';
import { readSealedFile } from './sealed-file';
import { filesUnder, keytar, removeKeychainService, testKeychainService } from './testing/integration';
import { Vault, type VaultLogger } from './vault';

// A full vault flow against the real keychain, then a search for key material everywhere it must not be.
const service = testKeychainService();
const restoreService = testKeychainService();
const passphrase = 'quartz meadow 7 harbour';
let workDir: string;

const logged: unknown[] = [];
const logger: VaultLogger = {
  info: (message, fields) => logged.push({ level: 'info', message, fields }),
  error: (message, fields) => logged.push({ level: 'error', message, fields }),
};
/** Everything the vault API handed back (except readSecret's content, which is the point of that call). */
const returned: unknown[] = [];
function keep<T>(value: T): T {
  returned.push(value);
  return value;
}
async function keepError(attempt: Promise<unknown>): Promise<unknown> {
  return keep(
    await attempt.then(
      () => new Error('expected a failure'),
      (error: unknown) => error,
    ),
  );
}

/** Every way a key could show up: raw, hex either case, base64, and how inspect/JSON print byte arrays. */
function renderings(key: Buffer): { text: string[]; binary: Buffer[] } {
  const hex = key.toString('hex');
  const bytes = [...key];
  return {
    text: [
      hex,
      hex.toUpperCase(),
      key.toString('base64'),
      key.toString('base64url'),
      hex.match(/../g)!.slice(0, 16).join(' '), // <Buffer 0a 1b ...>
      bytes.slice(0, 16).join(','), // JSON {"type":"Buffer","data":[10,27,...]}
      bytes.slice(0, 16).join(', '), // Uint8Array(32) [ 10, 27, ... ]
      key.toString('latin1'),
    ],
    binary: [key, Buffer.from(hex), Buffer.from(hex.toUpperCase()), Buffer.from(key.toString('base64'))],
  };
}

function views(value: unknown): string[] {
  return [
    JSON.stringify(value) ?? '',
    String(value),
    inspect(value, { depth: Infinity, showHidden: true, getters: true }),
    inspect(value, { depth: Infinity, showHidden: true, getters: true, customInspect: false }),
  ];
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'cos-vault-leak-'));
});

afterAll(async () => {
  await removeKeychainService(service);
  await removeKeychainService(restoreService);
  await rm(workDir, { recursive: true, force: true });
});

describe('vault leak test', () => {
  it('leaves no wallet key, master key or FHE secret in files, logs or returned objects', async () => {
    const dataDir = path.join(workDir, 'data');
    const restoreDir = path.join(workDir, 'restored');
    const backupDir = path.join(workDir, 'backups');
    await mkdir(backupDir);
    const vault = keep(new Vault({ dataDir, keychain: new KeytarKeychain(), keychainService: service, logger }));
    const restoreVault = keep(
      new Vault({ dataDir: restoreDir, keychain: new KeytarKeychain(), keychainService: restoreService, logger }),
    );

    // The flow: onboard, store an FHE key, sign, back up, restore elsewhere, sign there, clean up.
    const profile = keep(await vault.createProfile({ label: 'Leak steward', role: 'steward' }));
    const spare = keep(await vault.createProfile({ label: 'Spare', role: 'donor' }));
    keep(await vault.listProfiles());
    keep(await vault.getProfile(profile.id));
    const unlocked = keep(await vault.unlock(profile.id));
    keep(unlocked.signer);
    keep(unlocked.signer.connect(null));
    const fheSecretKey = randomBytes(2 * 1024 * 1024);
    await unlocked.writeSecret('fhe-sk', fheSecretKey, { publicKey: randomBytes(64) });
    keep(unlocked.profile);
    keep(await unlocked.listSecrets());
    (await unlocked.readSecret('fhe-sk')).fill(0);
    keep(await unlocked.signer.signMessage('approve'));
    keep(
      await unlocked.signer.signTypedData(
        { name: 'COS', chainId: 1 },
        { Grant: [{ name: 'id', type: 'uint256' }] },
        {
          id: 1n,
        },
      ),
    );
    keep(
      await unlocked.signer.signTransaction({
        chainId: 1n,
        nonce: 0,
        to: profile.address,
        gasLimit: 21_000n,
        gasPrice: 1n,
      }),
    );
    const backupFile = path.join(backupDir, 'steward.cosbackup');
    keep(await vault.exportBackup(profile.id, passphrase, backupFile));
    await keepError(vault.exportBackup(profile.id, 'weak', path.join(backupDir, 'weak')));
    await keepError(restoreVault.restoreBackup(backupFile, 'wrong passphrase here'));
    const restored = keep(await restoreVault.restoreBackup(backupFile, passphrase));
    const restoredUnlocked = keep(await restoreVault.unlock(restored.id));
    keep(await restoredUnlocked.signer.signMessage('approve'));
    await keepError(unlocked.readSecret('wallet'));
    await keepError(vault.unlock('not-a-profile'));
    keep(await vault.deleteProfile(spare.id));
    await keepError(vault.unlock(spare.id));
    unlocked.lock();
    restoredUnlocked.lock();
    await keepError(unlocked.signer.signMessage('after lock'));
    keep(unlocked);
    keep(restoredUnlocked);

    // The secrets, fetched behind the vault's back.
    const masterKey = Buffer.from(
      (await keytar.getPassword(service, `profile:${profile.id}`))!.split(':')[1]!,
      'base64',
    );
    const restoredMasterKey = Buffer.from(
      (await keytar.getPassword(restoreService, `profile:${profile.id}`))!.split(':')[1]!,
      'base64',
    );
    const walletKey = await readSealedFile(
      path.join(dataDir, 'profiles', profile.id, 'secrets', 'wallet.sealed'),
      masterKey,
      {
        profileId: profile.id,
        secretName: 'wallet',
      },
    );
    expect([masterKey, restoredMasterKey, walletKey].map((key) => key.length)).toEqual([32, 32, 32]);
    const keys = { walletKey, masterKey, restoredMasterKey };

    const hits: string[] = [];
    const files = new Map<string, Buffer>();
    for (const dir of [dataDir, restoreDir, backupDir]) {
      for (const [name, content] of await filesUnder(dir)) files.set(path.join(path.basename(dir), name), content);
    }
    expect(files.size).toBeGreaterThanOrEqual(7);
    const fheWindows = Array.from({ length: 64 }, (_, i) => fheSecretKey.subarray(i * 32 * 1024, i * 32 * 1024 + 24));
    for (const [file, content] of files) {
      for (const [keyName, key] of Object.entries(keys)) {
        for (const needle of renderings(key).binary) if (content.includes(needle)) hits.push(`${keyName} in ${file}`);
      }
      for (const window of fheWindows) if (content.includes(window)) hits.push(`fhe secret key in ${file}`);
    }
    const texts: [string, string][] = [
      ...views(logged).map((text): [string, string] => ['logs', text]),
      ...returned.flatMap((value, index) => views(value).map((text): [string, string] => [`returned #${index}`, text])),
    ];
    for (const [where, text] of texts) {
      for (const [keyName, key] of Object.entries(keys)) {
        for (const needle of renderings(key).text) if (text.includes(needle)) hits.push(`${keyName} in ${where}`);
      }
    }
    expect(logged.length).toBeGreaterThan(5);
    expect(returned.length).toBeGreaterThan(25);
    expect(hits).toEqual([]);
  });
});
