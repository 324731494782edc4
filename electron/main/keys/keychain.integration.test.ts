import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeytarKeychain } from './keychain';
import {
  envWithoutKeyring,
  filesUnder,
  keytar,
  removeKeychainService,
  runVaultChild,
  testKeychainService,
} from './testing/integration';
import { Vault } from './vault';

// Runs inside the private D-Bus session with an unlocked throwaway gnome-keyring that `npm test` sets up.
const service = testKeychainService();
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'cos-keychain-it-'));
});

afterAll(async () => {
  await removeKeychainService(service);
  await rm(workDir, { recursive: true, force: true });
});

describe('KeytarKeychain against the real Secret Service', () => {
  it('stores, reads back, overwrites and deletes a secret', async () => {
    const keychain = new KeytarKeychain();
    await keychain.setSecret(service, 'roundtrip', 'first value');
    expect(await keytar.getPassword(service, 'roundtrip')).toBe('first value');
    await keychain.setSecret(service, 'roundtrip', 'second välue ✓');
    expect(await keychain.getSecret(service, 'roundtrip')).toBe('second välue ✓');
    expect(await keychain.deleteSecret(service, 'roundtrip')).toBe(true);
    expect(await keychain.getSecret(service, 'roundtrip')).toBeNull();
    expect(await keychain.deleteSecret(service, 'roundtrip')).toBe(false);
    await expect(keychain.assertWritable(service)).resolves.toBeUndefined();
    expect(await keytar.findCredentials(service)).toEqual([]);
  });
});

describe('without a usable keychain', () => {
  it('gives KEYCHAIN_UNAVAILABLE and writes no file when no Secret Service can be reached', async () => {
    const dataDir = path.join(workDir, 'no-bus');
    const env = envWithoutKeyring({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/cos-test-bus' });
    const run = await runVaultChild(['create', dataDir, service, 'Nowhere'], { env });
    expect(run.lines).toEqual([expect.objectContaining({ ok: false, vaultCode: 'KEYCHAIN_UNAVAILABLE' })]);
    expect(run.code).toBe(1);
    expect([...(await filesUnder(dataDir)).keys()]).toEqual([]);
  });

  it('gives KEYCHAIN_UNAVAILABLE at unlock and changes no file', async () => {
    const dataDir = path.join(workDir, 'no-bus-unlock');
    const created = await new Vault({
      dataDir,
      keychain: new KeytarKeychain(),
      keychainService: service,
    }).createProfile({ label: 'Here', role: 'lab' });
    const before = await filesUnder(dataDir);
    const env = envWithoutKeyring({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/cos-test-bus' });
    const run = await runVaultChild(['unlock', dataDir, service, created.id], { env });
    expect(run.lines).toEqual([expect.objectContaining({ ok: false, vaultCode: 'KEYCHAIN_UNAVAILABLE' })]);
    expect(await filesUnder(dataDir)).toEqual(before);
  });

  it('gives KEYCHAIN_LOCKED for a locked keyring at create, unlock and delete, and changes nothing', async () => {
    // A keyring of its own in another D-Bus session: made unlocked once, then started locked.
    const env = envWithoutKeyring({ XDG_DATA_HOME: path.join(workDir, 'locked-keyring'), KEYRING_PASSWORD: 'pw-1' });
    const unlockedSession = [
      'dbus-run-session',
      '--',
      'sh',
      '-c',
      'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"',
      'sh',
    ];
    const lockedSession = [
      'dbus-run-session',
      '--',
      'sh',
      '-c',
      'gnome-keyring-daemon --start --components=secrets >/dev/null && exec "$@"',
      'sh',
    ];
    const dataDir = path.join(workDir, 'locked');
    const created = await runVaultChild(['create', dataDir, service, 'Locked later'], {
      env,
      wrapper: unlockedSession,
    });
    expect(created.lines).toEqual([expect.objectContaining({ ok: true })]);
    const profileId = (created.lines[0]!.profile as { id: string }).id;
    const before = await filesUnder(dataDir);

    const unlock = await runVaultChild(['unlock', dataDir, service, profileId], { env, wrapper: lockedSession });
    expect(unlock.lines).toEqual([expect.objectContaining({ ok: false, vaultCode: 'KEYCHAIN_LOCKED' })]);
    const create = await runVaultChild(['create', dataDir, service, 'Second'], { env, wrapper: lockedSession });
    expect(create.lines).toEqual([expect.objectContaining({ ok: false, vaultCode: 'KEYCHAIN_LOCKED' })]);
    const remove = await runVaultChild(['delete', dataDir, service, profileId], { env, wrapper: lockedSession });
    expect(remove.lines).toEqual([expect.objectContaining({ ok: false, vaultCode: 'KEYCHAIN_LOCKED' })]);
    expect(await filesUnder(dataDir)).toEqual(before);

    // The same keyring, unlocked again, still opens the profile: the failures lost nothing.
    const again = await runVaultChild(['unlock', dataDir, service, profileId], { env, wrapper: unlockedSession });
    expect(again.lines).toEqual([expect.objectContaining({ ok: true })]);
  });
});
