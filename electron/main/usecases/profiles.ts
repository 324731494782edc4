import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEther } from 'ethers';
import { ROLE } from '../../../shared/contracts';
import { publicKeysDigest } from '../../../shared/fhe';
import { AppError } from '../../../shared/ipc/errors';
import type { ChannelRequest, ChannelResponse } from '../../../shared/ipc/contract';
import type { ProfileView } from '../../../shared/ipc/custodian';
import type { ProfileRole, ProfileSummary } from '../keys';
import { sendTx, toAppError, type CustodianContext } from './context';

/** Secret name of a profile's FHE secret key bundle in the vault. */
export const FHE_SECRET = 'fhe';
/** The public bundle is sealed too, so a restored backup brings it back. */
const FHE_PUBLIC_COPY = 'fhe-public';
const DEVNET_CHAIN_ID = 31337;

const ROLE_BITS: Record<ProfileRole, number> = { steward: ROLE.STEWARD, donor: ROLE.DONOR, lab: ROLE.LAB };

/** Public FHE key bundles live beside the vault in plain files: they are public by design. */
function publicKeysFile(ctx: CustodianContext, profileId: string): string {
  return path.join(ctx.deps.dataDir, 'public-keys', `${profileId}.bin`);
}

export async function readPublicKeys(ctx: CustodianContext, profileId: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(publicKeysFile(ctx, profileId)));
  } catch {
    return null;
  }
}

async function view(ctx: CustodianContext, summary: ProfileSummary): Promise<ProfileView> {
  const identity = await ctx.identityOf(summary.address).catch(() => ({ sbtId: 0, roles: 0 }));
  const publicKeys = await readPublicKeys(ctx, summary.id);
  return {
    id: summary.id,
    label: summary.label,
    role: summary.role,
    address: summary.address,
    fingerprints: { ...summary.fingerprints },
    createdAt: summary.createdAt,
    active: ctx.active?.unlocked.profile.id === summary.id,
    sbtId: identity.sbtId === 0 ? null : identity.sbtId,
    roles: identity.roles,
    fheKeyDigest: publicKeys ? publicKeysDigest(publicKeys) : null,
  };
}

export async function listProfiles(ctx: CustodianContext): Promise<ProfileView[]> {
  const summaries = await ctx.deps.vault.listProfiles();
  return Promise.all(summaries.map((summary) => view(ctx, summary)));
}

/**
 * A new profile: a wallet key made inside the vault and, for stewards and labs, an FHE key suite made
 * in the FHE worker; the secret halves are sealed in the vault, the public bundle is kept in the clear.
 * The new profile becomes the active one.
 */
export async function createProfile(
  ctx: CustodianContext,
  request: ChannelRequest<'profiles.create'>,
): Promise<ChannelResponse<'profiles.create'>> {
  const { vault, engine } = ctx.deps;
  const summary = await vault.createProfile({ label: request.label, role: request.role }).catch((error: unknown) => {
    throw toAppError(error, 'The profile could not be created');
  });
  const unlocked = await vault.unlock(summary.id).catch((error: unknown) => {
    throw toAppError(error, 'The new profile could not be unlocked');
  });
  if (request.role !== 'donor') {
    try {
      const keys = await engine.generateKeys();
      try {
        await unlocked.writeSecret(FHE_SECRET, keys.secretKeys, { publicKey: keys.publicKeys });
        await unlocked.writeSecret(FHE_PUBLIC_COPY, keys.publicKeys);
      } finally {
        keys.secretKeys.fill(0);
      }
      await mkdir(path.dirname(publicKeysFile(ctx, summary.id)), { recursive: true });
      await writeFile(publicKeysFile(ctx, summary.id), keys.publicKeys);
    } catch (error) {
      // No half-made profile: a profile without its FHE keys is removed again, then the cause reported.
      ctx.deps.logger.error('profile keys failed', { error: error instanceof Error ? error.message : String(error) });
      unlocked.lock();
      await vault.deleteProfile(summary.id).catch(() => undefined);
      throw toAppError(error, 'The FHE keys could not be made or sealed; nothing was kept');
    }
  }
  ctx.setActive(unlocked);
  return view(ctx, unlocked.profile);
}

export async function unlockProfile(ctx: CustodianContext, profileId: string): Promise<ProfileView> {
  const unlocked = await ctx.deps.vault.unlock(profileId).catch((error: unknown) => {
    throw toAppError(error, 'The profile could not be unlocked');
  });
  if (!(await readPublicKeys(ctx, profileId)) && (await unlocked.listSecrets()).includes(FHE_PUBLIC_COPY)) {
    await mkdir(path.dirname(publicKeysFile(ctx, profileId)), { recursive: true });
    await writeFile(publicKeysFile(ctx, profileId), await unlocked.readSecret(FHE_PUBLIC_COPY));
  }
  ctx.setActive(unlocked);
  return view(ctx, unlocked.profile);
}

export function lockProfile(ctx: CustodianContext): Record<string, never> {
  ctx.setActive(null);
  return {};
}

/**
 * Onboarding on chain: mints the identity token with the profile's role (self-registration, where the
 * network allows it) and publishes the FHE key digest on it. On the local devnet (chain 31337) a new
 * account is first given gas with anvil's `anvil_setBalance`; on a real network the account must be funded.
 */
export async function onboardProfile(ctx: CustodianContext): Promise<ProfileView> {
  const active = ctx.requireActive();
  const { provider, chainId } = ctx.deps;
  if (chainId === DEVNET_CHAIN_ID) {
    const balance = await provider.getBalance(active.address);
    if (balance < parseEther('1')) {
      await provider.send('anvil_setBalance', [active.address, `0x${parseEther('100').toString(16)}`]);
    }
  }
  const role = ROLE_BITS[active.unlocked.profile.role];
  let { sbtId, roles } = await ctx.identityOf(active.address);
  if (sbtId === 0) {
    await sendTx(active, 'Identity registration', () => active.contracts.IdentitySBT.register(role));
    ({ sbtId, roles } = await ctx.identityOf(active.address));
  } else if ((roles & role) !== role) {
    await sendTx(active, 'Role attestation', () => active.contracts.IdentitySBT.attestOwnRoles(role));
  }
  const publicKeys = await readPublicKeys(ctx, active.unlocked.profile.id);
  if (publicKeys) {
    const digest = publicKeysDigest(publicKeys);
    const current = await ctx.contracts.IdentitySBT.fheKeyFingerprintOf(sbtId);
    if (current !== digest)
      await sendTx(active, 'FHE key publication', () => active.contracts.IdentitySBT.publishFheKey(digest));
    // The bundle itself goes to the gateway, where anyone can fetch it by identity (a lab's key is what
    // key-switched results are addressed to). Publishing is retried on the next onboarding if it fails.
    if (ctx.deps.gatewayUrl) {
      await ctx
        .gateway()
        .upload(active.unlocked.signer, publicKeys)
        .catch((error: unknown) =>
          ctx.deps.logger.error('public key bundle not uploaded', {
            error: toAppError(error, 'upload failed').message,
          }),
        );
    }
  }
  if (chainId === DEVNET_CHAIN_ID && active.unlocked.profile.role === 'lab') {
    // Devnet labs get fee tokens from the faucet so fee-bearing grants can be funded.
    const faucet = await ctx.contracts.CosToken.faucetAmount();
    if (faucet > 0n) await sendTx(active, 'Faucet', () => active.contracts.CosToken.drip()).catch(() => undefined);
  }
  return view(ctx, active.unlocked.profile);
}

export async function backupProfile(
  ctx: CustodianContext,
  request: ChannelRequest<'profiles.backup'>,
): Promise<{ path: string }> {
  if (!path.isAbsolute(request.path)) throw new AppError('BAD_REQUEST', 'The backup path must be absolute');
  await ctx.deps.vault.exportBackup(request.profileId, request.passphrase, request.path).catch((error: unknown) => {
    throw toAppError(error, 'The backup could not be written');
  });
  return { path: request.path };
}

export async function restoreProfile(
  ctx: CustodianContext,
  request: ChannelRequest<'profiles.restore'>,
): Promise<ProfileView> {
  if (!path.isAbsolute(request.path)) throw new AppError('BAD_REQUEST', 'The backup path must be absolute');
  const summary = await ctx.deps.vault.restoreBackup(request.path, request.passphrase).catch((error: unknown) => {
    throw toAppError(error, 'The backup could not be restored');
  });
  return view(ctx, summary);
}
