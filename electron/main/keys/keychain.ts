import type * as keytarApi from 'keytar';
import { VaultError } from './errors';

/** The OS keychain, reduced to what the vault needs: one small secret string per service+account. */
export interface Keychain {
  /** The stored secret, or null when there is none (or a locked keychain declined to answer). */
  getSecret(service: string, account: string): Promise<string | null>;
  setSecret(service: string, account: string, secret: string): Promise<void>;
  /** True when an entry was removed. */
  deleteSecret(service: string, account: string): Promise<boolean>;
  /**
   * Throws KEYCHAIN_LOCKED or KEYCHAIN_UNAVAILABLE unless an entry can be written now. Used after a
   * `getSecret` came back empty, because a locked Secret Service answers "nothing" instead of an error.
   */
  assertWritable(service: string): Promise<void>;
}

export type KeytarModule = Pick<typeof keytarApi, 'getPassword' | 'setPassword' | 'deletePassword'>;

export interface KeytarKeychainOptions {
  /** Loads the native module; injectable so a missing module can be shown without uninstalling it. */
  loadModule?: () => Promise<KeytarModule>;
  /** How long to wait for the keychain (which may be showing an unlock prompt) before giving up. */
  timeoutMs?: number;
}

const PROBE_ACCOUNT = 'vault:write-probe';

async function loadKeytar(): Promise<KeytarModule> {
  // keytar is CommonJS: its functions sit on the default export when imported from ESM.
  const imported = (await import('keytar')) as KeytarModule & { default?: KeytarModule };
  return imported.default ?? imported;
}

function keychainFailure(operation: string, error: unknown): VaultError {
  if (error instanceof VaultError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (/\blocked\b/i.test(detail)) {
    return new VaultError(
      'KEYCHAIN_LOCKED',
      `The OS keychain is locked (${operation}): unlock your login keyring and try again`,
      { cause: error },
    );
  }
  return new VaultError('KEYCHAIN_UNAVAILABLE', `The OS keychain is not available (${operation}): ${detail}`, {
    cause: error,
  });
}

function checkName(kind: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new VaultError('BAD_INPUT', `Keychain ${kind} must be a non-empty string of at most 256 characters`);
  }
}

/**
 * The real keychain: keytar over libsecret (Linux Secret Service), Keychain Services (macOS) or
 * Credential Vault (Windows). The native module is loaded on first use, so a machine without it
 * gets KEYCHAIN_UNAVAILABLE from the vault instead of a crash at startup.
 */
export class KeytarKeychain implements Keychain {
  readonly #loadModule: () => Promise<KeytarModule>;
  readonly #timeoutMs: number;
  #module: Promise<KeytarModule> | null = null;

  constructor(options: KeytarKeychainOptions = {}) {
    this.#loadModule = options.loadModule ?? loadKeytar;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  async getSecret(service: string, account: string): Promise<string | null> {
    checkName('service', service);
    checkName('account', account);
    return this.#call('read', (keytar) => keytar.getPassword(service, account));
  }

  async setSecret(service: string, account: string, secret: string): Promise<void> {
    checkName('service', service);
    checkName('account', account);
    if (typeof secret !== 'string' || secret.length === 0) throw new VaultError('BAD_INPUT', 'Empty keychain secret');
    await this.#call('write', (keytar) => keytar.setPassword(service, account, secret));
  }

  async deleteSecret(service: string, account: string): Promise<boolean> {
    checkName('service', service);
    checkName('account', account);
    return this.#call('delete', (keytar) => keytar.deletePassword(service, account));
  }

  async assertWritable(service: string): Promise<void> {
    checkName('service', service);
    await this.#call('write check', async (keytar) => {
      await keytar.setPassword(service, PROBE_ACCOUNT, 'probe');
      await keytar.deletePassword(service, PROBE_ACCOUNT);
    });
  }

  #keytar(): Promise<KeytarModule> {
    this.#module ??= this.#loadModule().catch((error: unknown) => {
      this.#module = null; // a later attempt may succeed, e.g. after the package is rebuilt
      throw new VaultError('KEYCHAIN_UNAVAILABLE', 'The OS keychain module (keytar) could not be loaded', {
        cause: error,
      });
    });
    return this.#module;
  }

  async #call<T>(operation: string, action: (keytar: KeytarModule) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new VaultError('KEYCHAIN_UNAVAILABLE', `The OS keychain did not answer (${operation})`)),
        this.#timeoutMs,
      );
    });
    try {
      const keytar = await this.#keytar();
      return await Promise.race([action(keytar), timeout]);
    } catch (error) {
      throw keychainFailure(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }
}
