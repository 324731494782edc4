import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file';
import { VaultError } from './errors';
import { fingerprintPattern } from './fingerprint';

export const profileRoles = ['steward', 'donor', 'lab'] as const;
export type ProfileRole = (typeof profileRoles)[number];

/** Profile ids are random UUIDs; they become folder names and keychain accounts, so nothing else passes. */
export const profileIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Secret names become file names: lowercase, no separators, no leading dot. */
export const secretNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MAX_SECRETS_PER_PROFILE = 256;

// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;

export const profileLabelSchema = z
  .string()
  .trim()
  .min(1, 'A profile label cannot be empty')
  .max(64, 'A profile label has at most 64 characters')
  .refine((label) => !controlCharacters.test(label), 'A profile label cannot contain control characters');

export const profileRoleSchema = z.enum(profileRoles);

/** What the vault tells the rest of the app about a profile: public facts only, never secrets. */
export interface ProfileSummary {
  readonly id: string;
  readonly label: string;
  readonly role: ProfileRole;
  /** Checksummed wallet address. */
  readonly address: string;
  /** Secret name -> fingerprint of its public counterpart (always has `wallet`). */
  readonly fingerprints: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly createdAt: string;
}

export const profileSummarySchema = z.strictObject({
  id: z.string().regex(profileIdPattern),
  label: profileLabelSchema,
  role: profileRoleSchema,
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  fingerprints: z
    .record(z.string().regex(secretNamePattern), z.string().regex(fingerprintPattern))
    .refine((entries) => Object.keys(entries).length <= MAX_SECRETS_PER_PROFILE, 'Too many fingerprints'),
  createdAt: z.iso.datetime(),
});

const profileFileSchema = profileSummarySchema.extend({
  format: z.literal('cos-custodian-profile'),
  version: z.literal(1),
  integrity: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
});

export function freezeSummary(summary: ProfileSummary): ProfileSummary {
  return Object.freeze({ ...summary, fingerprints: Object.freeze({ ...summary.fingerprints }) });
}

const INTEGRITY_KEY_INFO = 'cos-custodian/vault/profile-integrity/v1';

/**
 * HMAC over the metadata under a key derived from the master key: listing needs no keychain, but
 * unlocking proves nobody edited the label, role, address or fingerprints on disk.
 */
export function profileIntegrity(summary: ProfileSummary, masterKey: Uint8Array): string {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), INTEGRITY_KEY_INFO, 32));
  try {
    const fingerprints = Object.entries(summary.fingerprints).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const canonical = JSON.stringify([
      'cos-custodian-profile/v1',
      summary.id,
      summary.label,
      summary.role,
      summary.address,
      summary.createdAt,
      fingerprints,
    ]);
    return createHmac('sha256', key).update(canonical, 'utf8').digest('base64');
  } finally {
    key.fill(0);
  }
}

export function hasValidIntegrity(summary: ProfileSummary, integrity: string, masterKey: Uint8Array): boolean {
  const expected = Buffer.from(profileIntegrity(summary, masterKey), 'base64');
  const actual = Buffer.from(integrity, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface StoredProfile {
  summary: ProfileSummary;
  integrity: string;
}

export async function readProfileFile(filePath: string, profileId: string): Promise<StoredProfile> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VaultError('PROFILE_NOT_FOUND', `No profile ${profileId}`);
    }
    throw error;
  }
  let parsed: z.infer<typeof profileFileSchema>;
  try {
    parsed = profileFileSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new VaultError('CORRUPT_SECRET', `The metadata of profile ${profileId} is damaged`, { cause: error });
  }
  if (parsed.id !== profileId) {
    throw new VaultError('CORRUPT_SECRET', `The metadata of profile ${profileId} belongs to another profile`);
  }
  const { format: _format, version: _version, integrity, ...summary } = parsed;
  return { summary: freezeSummary(summary), integrity };
}

export async function writeProfileFile(
  filePath: string,
  summary: ProfileSummary,
  masterKey: Uint8Array,
): Promise<void> {
  const file = {
    format: 'cos-custodian-profile',
    version: 1,
    ...summary,
    integrity: profileIntegrity(summary, masterKey),
  };
  await writeFileAtomic(filePath, Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8'));
}
