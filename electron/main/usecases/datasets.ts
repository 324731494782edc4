import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { buildConsentTree, verifyConsentProof, donorLeaf } from '../../../shared/contracts';
import { canonicalJson, parseManifest, publicKeysDigest, type FheManifest } from '../../../shared/fhe';
import { keccak256, toUtf8Bytes } from 'ethers';
import { AppError } from '../../../shared/ipc/errors';
import type { ChannelRequest, ChannelResponse } from '../../../shared/ipc/contract';
import type { DatasetView } from '../../../shared/ipc/custodian';
import { MANIFEST_FILE, OBJECTS_DIR } from '../fhe';
import { eventArg, sendTx, toAppError, type CustodianContext } from './context';
import { FHE_SECRET, readPublicKeys } from './profiles';

/** Encrypted dataset folders: `<dataDir>/datasets/<manifest digest hex>/{manifest.json, objects/, consent-receipts/}`. */
export function datasetsDir(ctx: CustodianContext): string {
  return path.join(ctx.deps.dataDir, 'datasets');
}

export function datasetFolder(ctx: CustodianContext, manifestCommitment: string): string {
  return path.join(datasetsDir(ctx), manifestCommitment.replace(/^0x/, '').toLowerCase());
}

/** The local manifest of a dataset this machine encrypted, checked against its commitment. */
export async function localManifest(ctx: CustodianContext, manifestCommitment: string): Promise<FheManifest> {
  const file = path.join(datasetFolder(ctx, manifestCommitment), MANIFEST_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new AppError('NOT_FOUND', 'This dataset was not encrypted on this machine (no local manifest)');
  }
  const manifest = parseManifest(JSON.parse(bytes.toString('utf8')) as unknown);
  const digest = `0x${createHash('sha256').update(bytes).digest('hex')}`;
  if (digest !== manifestCommitment.toLowerCase())
    throw new AppError('CONFLICT', 'The local manifest does not match its commitment');
  return manifest;
}

/** What a donor needs to withdraw or restore consent: its leaf's preimage and proof. Public data only. */
export const consentReceiptSchema = z.strictObject({
  format: z.literal('cos.consent-receipt.v1'),
  chainId: z.number().int().positive(),
  registry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  datasetId: z.number().int().positive(),
  manifestCommitment: z.string().regex(/^0x[0-9a-f]{64}$/),
  donorSbtId: z.number().int().positive(),
  consentCodes: z.string().regex(/^\d+$/),
  consentCommitment: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  proof: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/)).max(64),
});
export type ConsentReceipt = z.infer<typeof consentReceiptSchema>;

const DATASET_SELECT = `SELECT datasetId, owner, manifestCommitment, resourceURI, fheParamsHash, fheKeyFingerprint, consentCodes,
  donorCount, withdrawnCount, version, registeredBlock FROM datasets`;

interface DatasetRow {
  datasetId: number;
  owner: string;
  manifestCommitment: string;
  resourceURI: string;
  fheParamsHash: string;
  fheKeyFingerprint: string;
  consentCodes: string;
  donorCount: number;
  withdrawnCount: number;
  version: number;
  registeredBlock: number;
}

function toView(row: DatasetRow, me: string | null): DatasetView {
  return { ...row, mine: me !== null && row.owner.toLowerCase() === me.toLowerCase() };
}

export function listDatasets(ctx: CustodianContext): DatasetView[] {
  const me = ctx.active?.address ?? null;
  const rows = ctx.deps.db.prepare(`${DATASET_SELECT} ORDER BY datasetId`).all() as DatasetRow[];
  return rows.map((row) => toView(row, me));
}

export function datasetRow(ctx: CustodianContext, datasetId: number): DatasetRow | null {
  return (
    (ctx.deps.db.prepare(`${DATASET_SELECT} WHERE datasetId = ?`).get(datasetId) as DatasetRow | undefined) ?? null
  );
}

function checkInputFile(file: string, what: string): string {
  if (!path.isAbsolute(file)) throw new AppError('BAD_REQUEST', `The ${what} path must be absolute`);
  return file;
}

/**
 * Encrypts a cohort (VCF + phenotype CSV) under the active steward's FHE key, uploads the objects,
 * the manifest and the public key bundle to the gateway, and registers the dataset on chain with the
 * manifest commitment, the parameter and key digests and the donors' consent tree. Each donor's
 * consent receipt is written beside the dataset for the steward to hand over.
 */
export async function importDataset(
  ctx: CustodianContext,
  request: ChannelRequest<'datasets.import'>,
): Promise<ChannelResponse<'datasets.import'>> {
  const active = ctx.requireActive();
  if (active.unlocked.profile.role !== 'steward')
    throw new AppError('FORBIDDEN', 'Only a steward profile registers datasets');
  await ctx.requireSbt(active);
  const gateway = ctx.gateway();
  const publicKeys = await readPublicKeys(ctx, active.unlocked.profile.id);
  if (!publicKeys) throw new AppError('NOT_FOUND', 'This profile has no FHE keys');
  const consentCodes = BigInt(request.consentCodes);
  if (consentCodes >= 1n << 64n) throw new AppError('BAD_REQUEST', 'consentCodes must fit 64 bits');
  const progress = (label: string, done: number, total: number | null) =>
    ctx.deps.events.emit('progress', { taskId: request.taskId, label, done, total });

  // 1. Encrypt into a staging folder, then name it by its commitment.
  await mkdir(datasetsDir(ctx), { recursive: true });
  const staging = path.join(datasetsDir(ctx), `.staging-${randomBytes(8).toString('hex')}`);
  const secretKeys = await active.unlocked.readSecret(FHE_SECRET);
  let encrypted;
  try {
    encrypted = await ctx.deps.engine.encryptDataset(
      {
        vcfPath: checkInputFile(request.vcfPath, 'VCF'),
        phenotypeCsvPath: checkInputFile(request.phenotypeCsvPath, 'phenotype CSV'),
        phenotypeColumn: request.phenotypeColumn,
        ...(request.sampleIdColumn ? { sampleIdColumn: request.sampleIdColumn } : {}),
        ...(request.consentIdColumn ? { consentIdColumn: request.consentIdColumn } : {}),
        ...(request.covariateColumns ? { covariateColumns: request.covariateColumns } : {}),
        outputDir: staging,
      },
      secretKeys,
      {
        onProgress: (p: { stage: string; done: number; total: number | null }) =>
          progress(`Encrypting (${p.stage})`, p.done, p.total),
      },
    );
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw toAppError(error, 'The dataset could not be encrypted');
  } finally {
    secretKeys.fill(0);
  }
  const commitment = encrypted.manifestDigest;
  const folder = datasetFolder(ctx, commitment);
  await rm(folder, { recursive: true, force: true });
  await rename(staging, folder);

  // 2. Upload: objects, then the key bundle, then the manifest (the manifest last: it names the rest).
  const objectsDir = path.join(folder, OBJECTS_DIR);
  const objectNames = await readdir(objectsDir);
  let uploaded = 0;
  const total = objectNames.length + 2;
  try {
    for (const name of objectNames) {
      await gateway.upload(active.unlocked.signer, path.join(objectsDir, name), { digest: name });
      progress('Uploading', ++uploaded, total);
    }
    await gateway.upload(active.unlocked.signer, publicKeys);
    progress('Uploading', ++uploaded, total);
    await gateway.upload(active.unlocked.signer, path.join(folder, MANIFEST_FILE));
    progress('Uploading', ++uploaded, total);
  } catch (error) {
    throw toAppError(error, 'Uploading to the gateway failed');
  }

  // 3. Consent: one leaf per donor (sample with a donor token), salted so the commitments hide nothing.
  const donors = encrypted.manifest.donorConsentIds
    .filter((donor) => donor !== '0')
    .map((donor) => ({
      donorSbtId: donor,
      consentCommitment: keccak256(
        toUtf8Bytes(
          canonicalJson({
            format: 'cos.consent.v1',
            manifestCommitment: commitment,
            donorSbtId: donor,
            consentCodes: request.consentCodes,
            salt: `0x${randomBytes(32).toString('hex')}`,
          }),
        ),
      ),
    }));
  const tree = buildConsentTree(donors);

  // 4. Register.
  const receipt = await sendTx(active, 'Dataset registration', () =>
    active.contracts.DatasetRegistry.registerDataset({
      manifestCommitment: commitment,
      resourceURI: ctx.deps.gatewayUrl ?? '',
      fheParamsHash: encrypted.manifest.fheParamsHash,
      fheKeyFingerprint: publicKeysDigest(publicKeys),
      consentCodes,
      consentRoot: tree.root,
      donorCount: donors.length,
      royaltyReceiver: active.address,
      royaltyBps: request.royaltyBps ?? 0,
    }),
  );
  const datasetId = Number(
    eventArg<bigint>(ctx.contracts, receipt, 'DatasetRegistry', 'DatasetRegistered', 'datasetId'),
  );

  const receiptsDir = path.join(folder, 'consent-receipts');
  await mkdir(receiptsDir, { recursive: true });
  for (const [index, donor] of donors.entries()) {
    const consentReceipt: ConsentReceipt = {
      format: 'cos.consent-receipt.v1',
      chainId: ctx.deps.chainId,
      registry: ctx.addresses.DatasetRegistry,
      datasetId,
      manifestCommitment: commitment,
      donorSbtId: Number(donor.donorSbtId),
      consentCodes: request.consentCodes,
      consentCommitment: donor.consentCommitment,
      proof: tree.proofs[index]!,
    };
    await writeFile(
      path.join(receiptsDir, `donor-${donor.donorSbtId}.json`),
      `${JSON.stringify(consentReceipt, null, 2)}\n`,
    );
  }
  const stats = encrypted.stats;
  const registered = await ctx.contracts.DatasetRegistry.dataset(datasetId);
  return {
    dataset: {
      datasetId,
      owner: active.address,
      manifestCommitment: commitment,
      resourceURI: ctx.deps.gatewayUrl ?? '',
      fheParamsHash: encrypted.manifest.fheParamsHash,
      fheKeyFingerprint: publicKeysDigest(publicKeys),
      consentCodes: request.consentCodes,
      donorCount: donors.length,
      withdrawnCount: 0,
      version: Number(registered.version),
      registeredBlock: receipt.blockNumber,
      mine: true,
    },
    txHash: receipt.hash,
    samples: stats.samples,
    snps: stats.snps,
    bytesPerGenotype: stats.bytesPerGenotype,
    uploadedObjects: uploaded,
    consentReceiptsDir: receiptsDir,
  };
}

/** Reads and checks a consent receipt file against this network and its own proof. */
export async function readConsentReceipt(ctx: CustodianContext, file: string): Promise<ConsentReceipt> {
  if (!path.isAbsolute(file)) throw new AppError('BAD_REQUEST', 'The receipt path must be absolute');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile() || info.size > 64 * 1024) throw new AppError('BAD_REQUEST', 'Not a consent receipt file');
  let parsed: ConsentReceipt;
  try {
    parsed = consentReceiptSchema.parse(JSON.parse(await readFile(file, 'utf8')) as unknown);
  } catch {
    throw new AppError('BAD_REQUEST', 'The file is not a valid consent receipt');
  }
  if (
    parsed.chainId !== ctx.deps.chainId ||
    parsed.registry.toLowerCase() !== ctx.addresses.DatasetRegistry.toLowerCase()
  ) {
    throw new AppError('BAD_REQUEST', 'The consent receipt is for another network');
  }
  const dataset = await ctx.contracts.DatasetRegistry.dataset(parsed.datasetId);
  const leaf = donorLeaf(parsed.donorSbtId, parsed.consentCommitment);
  if (!verifyConsentProof(dataset.consentRoot, leaf, parsed.proof)) {
    throw new AppError('BAD_REQUEST', "The consent receipt's proof does not match the dataset's consent root");
  }
  return parsed;
}
