import { VaultError } from '../errors';
import type { Keychain } from '../keychain';

/**
 * An in-process Keychain for unit tests of logic that does not involve the keychain (formats,
 * tamper detection). Never wired into the app: the vault has no fallback away from the OS keychain.
 */
export class MemoryKeychain implements Keychain {
  readonly entries = new Map<string, string>();
  locked = false;

  async getSecret(service: string, account: string): Promise<string | null> {
    return this.locked ? null : (this.entries.get(`${service}\u0000${account}`) ?? null);
  }

  async setSecret(service: string, account: string, secret: string): Promise<void> {
    this.#assertUnlocked();
    this.entries.set(`${service}\u0000${account}`, secret);
  }

  async deleteSecret(service: string, account: string): Promise<boolean> {
    this.#assertUnlocked();
    return this.entries.delete(`${service}\u0000${account}`);
  }

  async assertWritable(): Promise<void> {
    this.#assertUnlocked();
  }

  #assertUnlocked(): void {
    if (this.locked) throw new VaultError('KEYCHAIN_LOCKED', 'The in-memory test keychain is locked');
  }
}
