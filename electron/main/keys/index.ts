/** The key vault: what the rest of the core may use. Sealing internals stay inside this folder. */
export { VaultError, isVaultError, vaultErrorCodes, type VaultErrorCode } from './errors';
export { KeytarKeychain, type Keychain, type KeytarKeychainOptions } from './keychain';
export { fingerprint, fingerprintPattern } from './fingerprint';
export { VaultSigner } from './signer';
export { DEFAULT_BACKUP_SCRYPT, MIN_PASSPHRASE_LENGTH, assertStrongPassphrase, type ScryptParams } from './backup';
export { profileRoles, type ProfileRole, type ProfileSummary } from './profile-file';
export {
  DEFAULT_KEYCHAIN_SERVICE,
  UnlockedProfile,
  Vault,
  WALLET_SECRET,
  type CreateProfileInput,
  type VaultLogger,
  type VaultOptions,
  type WriteSecretOptions,
} from './vault';
