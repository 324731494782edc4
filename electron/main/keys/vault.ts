import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { fsyncDirectory, TEMP_SUFFIX } from './atomic-file';
import { BackupReader, DEFAULT_BACKUP_SCRYPT, writeBackupFile, type ScryptParams } from './backup';
import type { ByteSource } from './chunked-aead';
import { VaultError } from './errors';
import { fingerprint } from './fingerprint';
import type { Keychain } from './keychain';
import {
  freezeSummary,
  hasValidIntegrity,
  MAX_SECRETS_PER_PROFILE,
  profileIdPattern,
  profileLabelSchema,
  profileRoleSchema,
  readProfileFile,
  secretNamePattern,
  writeProfileFile,
  type ProfileRole,
  type ProfileSummary,
} from './profile-file';
import {
  openSealedFile,
  readSealedFile,
  sealedPlaintextLength,
  writeSealedFile,
  type SealContext,
} from './sealed-file';
import { createDigestSigner, VaultSigner, type DigestSigner } from './signer';

export const DEFAULT_KEYCHAIN_SERVICE = 'cos-custodian';
/** The wallet private key: sealed like any secret, but only ever used through the signer. */
export const WALLET_SECRET = 'wallet';

const MASTER_KEY_BYTES = 32;
const MASTER_KEY_PREFIX = 'cos-vault-master-v1:';
const PROFILE_FILE = 'profile.json';
const SECRETS_DIR = 'secrets';
const SEALED_SUFFIX = '.sealed';
const STAGING_PREFIX = '.staging-';
const DELETING_PREFIX = '.deleting-';
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Same shape as the core's logger. The vault logs ids, roles and addresses, never key material. */
export interface VaultLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface VaultOptions {
  /** The app's data folder; profiles live in `<dataDir>/profiles/<profileId>/`. */
  dataDir: string;
  keychain: Keychain;
  /** Keychain service name; tests and benchmarks use their own so they never touch real profiles. */
  keychainService?: string;
  logger?: VaultLogger;
  /** scrypt cost for new backups; restore reads the cost from the backup's header. */
  backupScrypt?: ScryptParams;
}

export interface CreateProfileInput {
  label: string;
  role: ProfileRole;
}

export interface WriteSecretOptions {
  /** The public counterpart of the secret; its fingerprint is recorded in the profile metadata. */
  publicKey?: Uint8Array;
}

const silentLogger: VaultLogger = { info: () => undefined, error: () => undefined };

function checkProfileId(profileId: unknown): string {
  if (typeof profileId !== 'string' || !profileIdPattern.test(profileId)) {
    throw new VaultError('BAD_INPUT', 'A profile id is a lowercase UUID');
  }
  return profileId;
}

function checkSecretName(name: unknown): string {
  if (typeof name !== 'string' || !secretNamePattern.test(name)) {
    throw new VaultError('BAD_INPUT', 'A secret name is 1-64 characters of a-z, 0-9, ".", "_" or "-"');
  }
  if (name === WALLET_SECRET) {
    throw new VaultError('BAD_INPUT', 'The wallet key never leaves the vault: sign through the profile signer');
  }
  return name;
}

function newWalletKey(): Buffer {
  for (;;) {
    const candidate = randomBytes(32);
    const scalar = BigInt(`0x${candidate.toString('hex')}`);
    if (scalar > 0n && scalar < SECP256K1_ORDER) return candidate;
    candidate.fill(0);
  }
}

function encodeMasterKey(masterKey: Buffer): string {
  return `${MASTER_KEY_PREFIX}${masterKey.toString('base64')}`;
}

function decodeMasterKey(stored: string, profileId: string): Buffer {
  const key = stored.startsWith(MASTER_KEY_PREFIX)
    ? Buffer.from(stored.slice(MASTER_KEY_PREFIX.length), 'base64')
    : Buffer.alloc(0);
  if (key.length !== MASTER_KEY_BYTES) {
    key.fill(0);
    throw new VaultError('CORRUPT_SECRET', `The keychain entry of profile ${profileId} is not a vault master key`);
  }
  return key;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await stat(filePath);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Everything an unlocked profile needs from the vault that made it. */
interface ProfileAccess {
  profileId: string;
  secretsDir: string;
  logger: VaultLogger;
  /** Re-reads, verifies, changes and rewrites the metadata, one change at a time per profile. */
  updateSummary(masterKey: Buffer, change: (summary: ProfileSummary) => ProfileSummary): Promise<ProfileSummary>;
}

/**
 * The custodian's key vault. Each profile (steward, donor or lab identity) has a random 256-bit
 * master key in the OS keychain; its secrets are files sealed under that key (AES-256-GCM, see
 * docs/VAULT.md). A missing or locked keychain is an error: there is no plaintext fallback.
 */
export class Vault {
  readonly #profilesDir: string;
  readonly #keychain: Keychain;
  readonly #service: string;
  readonly #logger: VaultLogger;
  readonly #backupScrypt: ScryptParams;
  readonly #metadataQueues = new Map<string, Promise<unknown>>();

  constructor(options: VaultOptions) {
    if (!options || typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
      throw new VaultError('BAD_INPUT', 'The vault needs a data folder');
    }
    this.#profilesDir = path.join(path.resolve(options.dataDir), 'profiles');
    this.#keychain = options.keychain;
    this.#service = options.keychainService ?? DEFAULT_KEYCHAIN_SERVICE;
    this.#logger = options.logger ?? silentLogger;
    this.#backupScrypt = options.backupScrypt ?? DEFAULT_BACKUP_SCRYPT;
  }

  /** Creates a profile with a fresh master key and wallet key. Nothing is written if the keychain refuses. */
  async createProfile(input: CreateProfileInput): Promise<ProfileSummary> {
    const label = profileLabelSchema.safeParse(input?.label);
    if (!label.success) throw new VaultError('BAD_INPUT', label.error.issues[0]?.message ?? 'Bad profile label');
    const role = profileRoleSchema.safeParse(input?.role);
    if (!role.success) throw new VaultError('BAD_INPUT', 'A profile role is steward, donor or lab');

    const profileId = randomUUID();
    const masterKey = randomBytes(MASTER_KEY_BYTES);
    const walletKey = newWalletKey();
    const digestSigner = createDigestSigner(walletKey);
    try {
      // The keychain goes first: when it is missing or locked, no file has been written yet.
      await this.#storeMasterKey(profileId, masterKey);
      try {
        const summary = freezeSummary({
          id: profileId,
          label: label.data,
          role: role.data,
          address: digestSigner.address,
          fingerprints: { [WALLET_SECRET]: fingerprint(digestSigner.publicKey) },
          createdAt: new Date().toISOString(),
        });
        await this.#commitProfileDir(profileId, async (stagingDir) => {
          const walletFile = path.join(stagingDir, SECRETS_DIR, WALLET_SECRET + SEALED_SUFFIX);
          await writeSealedFile(walletFile, masterKey, { profileId, secretName: WALLET_SECRET }, walletKey);
          await writeProfileFile(path.join(stagingDir, PROFILE_FILE), summary, masterKey);
        });
        this.#logger.info('vault: profile created', { profileId, role: summary.role, address: summary.address });
        return summary;
      } catch (error) {
        await this.#keychain.deleteSecret(this.#service, this.#account(profileId)).catch(() => false);
        throw error;
      }
    } finally {
      masterKey.fill(0);
      walletKey.fill(0);
      digestSigner.destroy();
    }
  }

  /** Every profile on this machine, oldest first. Reads metadata only: no keychain access. */
  async listProfiles(): Promise<ProfileSummary[]> {
    let entries: string[];
    try {
      entries = await readdir(this.#profilesDir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
    const profiles: ProfileSummary[] = [];
    for (const entry of entries.filter((name) => profileIdPattern.test(name))) {
      try {
        profiles.push((await readProfileFile(this.#profileFile(entry), entry)).summary);
      } catch (error) {
        // One damaged profile must not hide the others; unlocking it reports the damage.
        this.#logger.error('vault: skipped an unreadable profile', { profileId: entry, error: String(error) });
      }
    }
    return profiles.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async getProfile(profileId: string): Promise<ProfileSummary> {
    const id = checkProfileId(profileId);
    return (await readProfileFile(this.#profileFile(id), id)).summary;
  }

  /** Removes the profile's files and its master key (crypto-shredding any copy of its sealed files). */
  async deleteProfile(profileId: string): Promise<void> {
    const id = checkProfileId(profileId);
    await readProfileFile(this.#profileFile(id), id);
    const trashDir = path.join(this.#profilesDir, `${DELETING_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
    await rename(this.#profileDir(id), trashDir);
    try {
      const removed = await this.#keychain.deleteSecret(this.#service, this.#account(id));
      // A locked Secret Service may answer "nothing to delete": the key must not outlive its files unnoticed.
      if (!removed) await this.#keychain.assertWritable(this.#service);
    } catch (error) {
      await rename(trashDir, this.#profileDir(id)); // keep profile and key together: nothing changed
      throw error;
    }
    await rm(trashDir, { recursive: true, force: true });
    await fsyncDirectory(this.#profilesDir);
    this.#logger.info('vault: profile deleted', { profileId: id });
  }

  /** Reads the master key from the keychain and opens the wallet: the profile can sign and read secrets. */
  async unlock(profileId: string): Promise<UnlockedProfile> {
    const id = checkProfileId(profileId);
    const { summary, integrity } = await readProfileFile(this.#profileFile(id), id);
    const masterKey = await this.#loadMasterKey(id);
    let walletKey: Buffer | null = null;
    try {
      if (!hasValidIntegrity(summary, integrity, masterKey)) {
        throw new VaultError('CORRUPT_SECRET', `The metadata of profile ${id} was modified outside the vault`);
      }
      walletKey = await readSealedFile(this.#secretFile(id, WALLET_SECRET), masterKey, {
        profileId: id,
        secretName: WALLET_SECRET,
      });
      const digestSigner = this.#walletSigner(walletKey, summary, `The wallet key of profile ${id}`);
      return new UnlockedProfile(summary, masterKey, digestSigner, this.#profileAccess(id));
    } catch (error) {
      masterKey.fill(0);
      throw error;
    } finally {
      walletKey?.fill(0);
    }
  }

  /**
   * Writes one file holding the profile's metadata and every secret, encrypted under a key derived
   * from `passphrase` with scrypt. Needs the keychain (to read the secrets), not an unlocked profile.
   */
  async exportBackup(profileId: string, passphrase: string, destinationPath: string): Promise<void> {
    const id = checkProfileId(profileId);
    if (typeof destinationPath !== 'string' || destinationPath.length === 0) {
      throw new VaultError('BAD_INPUT', 'A backup needs a destination file');
    }
    const { summary, integrity } = await readProfileFile(this.#profileFile(id), id);
    const masterKey = await this.#loadMasterKey(id);
    try {
      if (!hasValidIntegrity(summary, integrity, masterKey)) {
        throw new VaultError('CORRUPT_SECRET', `The metadata of profile ${id} was modified outside the vault`);
      }
      const names = await this.#sealedNames(id);
      const secrets = await Promise.all(
        names.map(async (name) => {
          const context: SealContext = { profileId: id, secretName: name };
          const file = this.#secretFile(id, name);
          return {
            name,
            size: await sealedPlaintextLength(file, context),
            content: () => openSealedFile(file, masterKey, context),
          };
        }),
      );
      await writeBackupFile(
        path.resolve(destinationPath),
        passphrase,
        this.#backupScrypt,
        summary,
        secrets,
        new Date(),
      );
      this.#logger.info('vault: backup exported', { profileId: id, secrets: names.length });
    } finally {
      masterKey.fill(0);
    }
  }

  /**
   * Restores a profile from a backup into this data folder under a new master key in this keychain.
   * The whole file is verified before anything is committed: a wrong passphrase (BAD_PASSPHRASE) or
   * a damaged file (CORRUPT_SECRET) changes nothing.
   */
  async restoreBackup(sourcePath: string, passphrase: string): Promise<ProfileSummary> {
    if (typeof sourcePath !== 'string' || sourcePath.length === 0) {
      throw new VaultError('BAD_INPUT', 'A restore needs a backup file');
    }
    const backup = await BackupReader.open(path.resolve(sourcePath), passphrase);
    try {
      const { profile, secrets } = backup.manifest;
      const summary = freezeSummary(profile);
      const id = summary.id;
      if (!secrets.some((secret) => secret.name === WALLET_SECRET)) {
        throw new VaultError('CORRUPT_SECRET', 'The backup holds no wallet key');
      }
      if (await exists(this.#profileDir(id))) {
        throw new VaultError('PROFILE_EXISTS', `Profile ${id} already exists on this machine`);
      }
      const masterKey = randomBytes(MASTER_KEY_BYTES);
      let keychainWritten = false;
      try {
        await this.#commitProfileDir(id, async (stagingDir) => {
          for (const secret of secrets) {
            const context: SealContext = { profileId: id, secretName: secret.name };
            const file = path.join(stagingDir, SECRETS_DIR, secret.name + SEALED_SUFFIX);
            if (secret.name !== WALLET_SECRET) {
              await writeSealedFile(file, masterKey, context, backup.read(secret.size));
              continue;
            }
            if (secret.size !== 32) throw new VaultError('CORRUPT_SECRET', 'The wallet key in the backup is damaged');
            const walletKey = await backup.readExact(secret.size);
            try {
              this.#walletSigner(walletKey, summary, 'The wallet key in the backup').destroy();
              await writeSealedFile(file, masterKey, context, walletKey);
            } finally {
              walletKey.fill(0);
            }
          }
          await backup.assertEnd();
          // Only now, with every byte verified, does anything outside the staging folder change.
          if (await exists(this.#profileDir(id))) {
            throw new VaultError('PROFILE_EXISTS', `Profile ${id} already exists on this machine`);
          }
          await this.#storeMasterKey(id, masterKey);
          keychainWritten = true;
          await writeProfileFile(path.join(stagingDir, PROFILE_FILE), summary, masterKey);
        });
      } catch (error) {
        if (keychainWritten) await this.#keychain.deleteSecret(this.#service, this.#account(id)).catch(() => false);
        throw error;
      } finally {
        masterKey.fill(0);
      }
      this.#logger.info('vault: profile restored', { profileId: id, address: summary.address });
      return summary;
    } finally {
      await backup.close();
    }
  }

  /**
   * Removes what crashes leave behind: half-written secrets (`*.tmp`), unfinished profile folders,
   * and their orphaned keychain entries. Call at startup; returns how many items went.
   */
  async sweepStaleFiles(options: { olderThanMs?: number } = {}): Promise<number> {
    const cutoff = Date.now() - (options.olderThanMs ?? 15 * 60_000);
    const isStale = async (filePath: string) => (await stat(filePath)).mtimeMs <= cutoff;
    let removed = 0;
    let entries: string[];
    try {
      entries = await readdir(this.#profilesDir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 0;
      throw error;
    }
    for (const entry of entries) {
      const entryPath = path.join(this.#profilesDir, entry);
      if (profileIdPattern.test(entry)) {
        const secretsDir = path.join(entryPath, SECRETS_DIR);
        const files = await readdir(secretsDir).catch(() => [] as string[]);
        for (const file of files.filter((name) => name.endsWith(TEMP_SUFFIX))) {
          if (!(await isStale(path.join(secretsDir, file)))) continue;
          await rm(path.join(secretsDir, file), { force: true });
          removed += 1;
        }
        continue;
      }
      // STAGING_PREFIX or DELETING_PREFIX, the profile id, a random suffix.
      const leftover = /^\.(?:staging|deleting)-([0-9a-f-]{36})-[0-9a-f]+$/.exec(entry);
      const orphanId = leftover?.[1];
      if (orphanId === undefined || !(await isStale(entryPath))) continue;
      await rm(entryPath, { recursive: true, force: true });
      removed += 1;
      if (profileIdPattern.test(orphanId) && !(await exists(this.#profileDir(orphanId)))) {
        await this.#keychain.deleteSecret(this.#service, this.#account(orphanId)).catch(() => false);
      }
    }
    if (removed > 0) this.#logger.info('vault: swept stale files', { removed });
    return removed;
  }

  [inspect.custom](): string {
    return `Vault { service: '${this.#service}' }`;
  }

  toJSON(): { type: 'Vault'; keychainService: string } {
    return { type: 'Vault', keychainService: this.#service };
  }

  #account(profileId: string): string {
    return `profile:${profileId}`;
  }

  #profileDir(profileId: string): string {
    return path.join(this.#profilesDir, profileId);
  }

  #profileFile(profileId: string): string {
    return path.join(this.#profileDir(profileId), PROFILE_FILE);
  }

  #secretFile(profileId: string, name: string): string {
    return path.join(this.#profileDir(profileId), SECRETS_DIR, name + SEALED_SUFFIX);
  }

  async #sealedNames(profileId: string): Promise<string[]> {
    const files = await readdir(path.join(this.#profileDir(profileId), SECRETS_DIR));
    return files
      .filter((file) => file.endsWith(SEALED_SUFFIX))
      .map((file) => file.slice(0, -SEALED_SUFFIX.length))
      .filter((name) => secretNamePattern.test(name))
      .sort();
  }

  async #storeMasterKey(profileId: string, masterKey: Buffer): Promise<void> {
    const encoded = encodeMasterKey(masterKey);
    await this.#keychain.setSecret(this.#service, this.#account(profileId), encoded);
    // Read it back: a keychain that accepted the write but kept nothing must fail here, not at unlock.
    if ((await this.#keychain.getSecret(this.#service, this.#account(profileId))) !== encoded) {
      await this.#keychain.deleteSecret(this.#service, this.#account(profileId)).catch(() => false);
      throw new VaultError('KEYCHAIN_UNAVAILABLE', 'The OS keychain did not keep the profile master key');
    }
  }

  async #loadMasterKey(profileId: string): Promise<Buffer> {
    const stored = await this.#keychain.getSecret(this.#service, this.#account(profileId));
    if (stored !== null) return decodeMasterKey(stored, profileId);
    // A locked Secret Service answers "nothing": tell that apart from a key that is really gone.
    await this.#keychain.assertWritable(this.#service);
    throw new VaultError(
      'MASTER_KEY_MISSING',
      `The keychain no longer holds the master key of profile ${profileId}: restore it from a backup`,
    );
  }

  #walletSigner(walletKey: Buffer, summary: ProfileSummary, what: string): DigestSigner {
    let digestSigner: DigestSigner;
    try {
      digestSigner = createDigestSigner(walletKey);
    } catch (error) {
      throw new VaultError('CORRUPT_SECRET', `${what} is not a valid secp256k1 key`, { cause: error });
    }
    if (
      digestSigner.address !== summary.address ||
      summary.fingerprints[WALLET_SECRET] !== fingerprint(digestSigner.publicKey)
    ) {
      digestSigner.destroy();
      throw new VaultError('CORRUPT_SECRET', `${what} does not match the profile address`);
    }
    return digestSigner;
  }

  /** Fills a staging folder, then renames it into place: a profile folder is complete or absent. */
  async #commitProfileDir(profileId: string, fill: (stagingDir: string) => Promise<void>): Promise<void> {
    await mkdir(this.#profilesDir, { recursive: true, mode: 0o700 });
    const stagingDir = path.join(this.#profilesDir, `${STAGING_PREFIX}${profileId}-${randomBytes(4).toString('hex')}`);
    await mkdir(path.join(stagingDir, SECRETS_DIR), { recursive: true, mode: 0o700 });
    try {
      await fill(stagingDir);
      if (await exists(this.#profileDir(profileId))) {
        throw new VaultError('PROFILE_EXISTS', `Profile ${profileId} already exists on this machine`);
      }
      await rename(stagingDir, this.#profileDir(profileId));
      await fsyncDirectory(this.#profilesDir);
    } catch (error) {
      await rm(stagingDir, { recursive: true, force: true });
      throw error;
    }
  }

  #profileAccess(profileId: string): ProfileAccess {
    return {
      profileId,
      secretsDir: path.join(this.#profileDir(profileId), SECRETS_DIR),
      logger: this.#logger,
      updateSummary: (masterKey, change) =>
        this.#serialized(profileId, async () => {
          const file = this.#profileFile(profileId);
          const { summary, integrity } = await readProfileFile(file, profileId);
          if (!hasValidIntegrity(summary, integrity, masterKey)) {
            throw new VaultError(
              'CORRUPT_SECRET',
              `The metadata of profile ${profileId} was modified outside the vault`,
            );
          }
          const next = freezeSummary(change(summary));
          await writeProfileFile(file, next, masterKey);
          return next;
        }),
    };
  }

  async #serialized<T>(profileId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#metadataQueues.get(profileId) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(task);
    this.#metadataQueues.set(profileId, current);
    try {
      return await current;
    } finally {
      if (this.#metadataQueues.get(profileId) === current) this.#metadataQueues.delete(profileId);
    }
  }
}

/**
 * A profile whose master key is in memory: it signs (through `signer`) and reads and writes sealed
 * secrets until `lock()`. Operations already running finish with their own copy of the key.
 */
export class UnlockedProfile {
  readonly signer: VaultSigner;
  #summary: ProfileSummary;
  #masterKey: Buffer | null;
  readonly #digestSigner: DigestSigner;
  readonly #access: ProfileAccess;

  /** @internal made by `Vault.unlock`; takes ownership of `masterKey` and `digestSigner`. */
  constructor(summary: ProfileSummary, masterKey: Buffer, digestSigner: DigestSigner, access: ProfileAccess) {
    this.#summary = summary;
    this.#masterKey = masterKey;
    this.#digestSigner = digestSigner;
    this.#access = access;
    this.signer = new VaultSigner(digestSigner);
  }

  get profile(): ProfileSummary {
    return this.#summary;
  }

  get locked(): boolean {
    return this.#masterKey === null;
  }

  /**
   * Seals `content` (a buffer or a stream of any length) as secret `name`, replacing any previous
   * version atomically. With `publicKey`, the profile records its fingerprint.
   */
  async writeSecret(name: string, content: ByteSource, options: WriteSecretOptions = {}): Promise<void> {
    const secretName = checkSecretName(name);
    const publicKeyFingerprint = options.publicKey === undefined ? undefined : fingerprint(options.publicKey);
    const masterKey = this.#masterKeyCopy();
    try {
      const existing = (await readdir(this.#access.secretsDir)).filter((file) => file.endsWith(SEALED_SUFFIX));
      if (!existing.includes(secretName + SEALED_SUFFIX) && existing.length >= MAX_SECRETS_PER_PROFILE) {
        throw new VaultError('BAD_INPUT', `A profile holds at most ${MAX_SECRETS_PER_PROFILE} secrets`);
      }
      await writeSealedFile(this.#file(secretName), masterKey, this.#context(secretName), content);
      if (publicKeyFingerprint !== undefined || this.#summary.fingerprints[secretName] !== undefined) {
        this.#summary = await this.#access.updateSummary(masterKey, (summary) => {
          const fingerprints = { ...summary.fingerprints };
          if (publicKeyFingerprint === undefined) delete fingerprints[secretName];
          else fingerprints[secretName] = publicKeyFingerprint;
          return { ...summary, fingerprints };
        });
      }
      this.#access.logger.info('vault: secret written', { profileId: this.#access.profileId, secret: secretName });
    } finally {
      masterKey.fill(0);
    }
  }

  /** The whole secret, verified. The caller owns the buffer and should `fill(0)` it when done. */
  async readSecret(name: string): Promise<Buffer> {
    const secretName = checkSecretName(name);
    const masterKey = this.#masterKeyCopy();
    try {
      return await readSealedFile(this.#file(secretName), masterKey, this.#context(secretName));
    } finally {
      masterKey.fill(0);
    }
  }

  /**
   * The secret in verified chunks, for secrets too large to hold twice. The last chunk is checked
   * for truncation only at the end: act on the content after the stream finished without error.
   */
  async *readSecretStream(name: string): AsyncGenerator<Buffer> {
    const secretName = checkSecretName(name);
    const masterKey = this.#masterKeyCopy();
    try {
      yield* openSealedFile(this.#file(secretName), masterKey, this.#context(secretName));
    } finally {
      masterKey.fill(0);
    }
  }

  async deleteSecret(name: string): Promise<void> {
    const secretName = checkSecretName(name);
    const masterKey = this.#masterKeyCopy();
    try {
      try {
        await rm(this.#file(secretName));
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') {
          throw new VaultError(
            'SECRET_NOT_FOUND',
            `Secret "${secretName}" of profile ${this.#summary.id} does not exist`,
          );
        }
        throw error;
      }
      if (this.#summary.fingerprints[secretName] !== undefined) {
        this.#summary = await this.#access.updateSummary(masterKey, (summary) => {
          const fingerprints = { ...summary.fingerprints };
          delete fingerprints[secretName];
          return { ...summary, fingerprints };
        });
      }
      this.#access.logger.info('vault: secret deleted', { profileId: this.#access.profileId, secret: secretName });
    } finally {
      masterKey.fill(0);
    }
  }

  /** Names of the sealed secrets, including `wallet` (which is only usable through the signer). */
  async listSecrets(): Promise<string[]> {
    if (this.locked) throw new VaultError('PROFILE_LOCKED', 'The profile is locked');
    const files = await readdir(this.#access.secretsDir);
    return files
      .filter((file) => file.endsWith(SEALED_SUFFIX))
      .map((file) => file.slice(0, -SEALED_SUFFIX.length))
      .filter((secretName) => secretNamePattern.test(secretName))
      .sort();
  }

  /** Wipes the master key from memory and disables the signer (and every `connect`ed copy of it). */
  lock(): void {
    this.#masterKey?.fill(0);
    this.#masterKey = null;
    this.#digestSigner.destroy();
  }

  toJSON(): { type: 'UnlockedProfile'; profile: ProfileSummary; locked: boolean } {
    return { type: 'UnlockedProfile', profile: this.#summary, locked: this.locked };
  }

  [inspect.custom](): string {
    return `UnlockedProfile { id: '${this.#summary.id}', address: '${this.#summary.address}', locked: ${this.locked} }`;
  }

  #masterKeyCopy(): Buffer {
    if (this.#masterKey === null) throw new VaultError('PROFILE_LOCKED', 'The profile is locked: unlock it first');
    return Buffer.from(this.#masterKey);
  }

  #context(secretName: string): SealContext {
    return { profileId: this.#summary.id, secretName };
  }

  #file(secretName: string): string {
    return path.join(this.#access.secretsDir, secretName + SEALED_SUFFIX);
  }
}
