/**
 * A separate process for the integration tests: one that finds no keychain, one inside another
 * D-Bus session, one killed with SIGKILL in the middle of writing a secret. Prints one JSON line.
 *
 *   node --import tsx vault-child.ts create|unlock|delete|slow-write <dataDir> <keychainService> <label|profileId> [secretName]
 */
import { isVaultError } from '../errors';
import { KeytarKeychain } from '../keychain';
import { Vault } from '../vault';

const [command, dataDir, keychainService, subject, secretName] = process.argv.slice(2);

function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function* slowSecret(): AsyncGenerator<Uint8Array> {
  for (let mebibyte = 0; ; mebibyte += 1) {
    yield Buffer.alloc(1024 * 1024, 0x5a);
    if (mebibyte === 3) {
      report({ writing: true });
      await new Promise((resolve) => setTimeout(resolve, 60_000)); // killed while waiting here
    }
  }
}

async function main(): Promise<void> {
  if (!dataDir || !keychainService || !subject) throw new Error('usage: <command> <dataDir> <service> <subject>');
  const vault = new Vault({ dataDir, keychain: new KeytarKeychain({ timeoutMs: 20_000 }), keychainService });
  if (command === 'create') {
    const profile = await vault.createProfile({ label: subject, role: 'steward' });
    report({ ok: true, profile });
  } else if (command === 'unlock') {
    const unlocked = await vault.unlock(subject);
    report({ ok: true, address: unlocked.signer.address });
    unlocked.lock();
  } else if (command === 'delete') {
    await vault.deleteProfile(subject);
    report({ ok: true });
  } else if (command === 'slow-write' && secretName) {
    const unlocked = await vault.unlock(subject);
    await unlocked.writeSecret(secretName, slowSecret());
    report({ ok: true });
  } else {
    throw new Error(`unknown command ${command}`);
  }
}

main().catch((error: unknown) => {
  if (isVaultError(error)) report({ ok: false, vaultCode: error.vaultCode, message: error.message });
  else report({ ok: false, message: String(error) });
  process.exitCode = 1;
});
