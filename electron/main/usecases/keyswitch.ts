import { createHash } from 'node:crypto';
import { toBeHex, zeroPadValue } from 'ethers';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { interpretResult, resultKind } from '../../../shared/algorithms';

import { loadSeal } from '../../../shared/fhe';
import { checkBundleAgainstChain, verifyGenotypeSum, type DecryptedBundle } from '../../../shared/fhe/keyswitch';
import type { BundleView } from '../../../shared/ipc/custodian';
import type { ChannelRequest, ChannelResponse } from '../../../shared/ipc/contract';
import { AppError } from '../../../shared/ipc/errors';
import { onChainRelease, parseOutputTerms } from '../../../shared/terms';
import { OBJECTS_DIR } from '../fhe';
import { algorithmName, permitRow, termsFile } from './access';
import { sendTx, toAppError, type CustodianContext } from './context';
import { datasetFolder, datasetRow, localManifest } from './datasets';
import { FHE_SECRET } from './profiles';
import { countsJson, fetchPostedResult, jsonSafe } from './results';

/** Key switching (issue 7) as use cases: the owner's issuance, the lab's offline decryption and later check. */

const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;
const BUNDLE_PREFIX = 'bundle-';

function resultKindOf(algorithmId: string): string | null {
  try {
    return resultKind(algorithmId.toLowerCase());
  } catch {
    return null;
  }
}

function bundleSecretName(chainId: number, permitId: number): string {
  return `${BUNDLE_PREFIX}${chainId}-${permitId}`;
}

interface StoredBundle extends BundleView {
  format: 'cos.bundle.decrypted.v1';
}

function decryptedJson(decrypted: DecryptedBundle): unknown {
  return decrypted.kind === 'numeric-sums' ? { sums: decrypted.sums } : { counts: countsJson(decrypted.counts) };
}

/**
 * Owner: checks that the grant's terms (the document on this machine whose hash the grant carries) and
 * the chain allow releasing this permit's result by key switching, fetches and checks the result, checks
 * that it is the honest sum of this dataset's own objects (a forged "result" could be one donor's object),
 * computes the share in the FHE worker, records it on chain and writes the bundle.
 */
export async function issueKeySwitch(
  ctx: CustodianContext,
  request: ChannelRequest<'results.keySwitch'>,
): Promise<ChannelResponse<'results.keySwitch'>> {
  const active = ctx.requireActive();
  if (!path.isAbsolute(request.path)) throw new AppError('BAD_REQUEST', 'The bundle path must be absolute');
  if (await stat(request.path).catch(() => null)) throw new AppError('CONFLICT', 'The bundle file exists already');
  const permit = permitRow(ctx, request.permitId);
  if (!permit?.resultCommitment) throw new AppError('NOT_FOUND', `Permit ${request.permitId} has no posted result yet`);
  const dataset = datasetRow(ctx, permit.datasetId);
  if (!dataset || dataset.owner.toLowerCase() !== active.address.toLowerCase()) {
    throw new AppError('FORBIDDEN', 'Only the dataset owner releases its results');
  }
  const [grant, chainPermit] = await Promise.all([
    ctx.contracts.DataAccess.getGrant(permit.grantId),
    ctx.contracts.DataAccess.getJobPermit(request.permitId),
  ]);
  const chain = onChainRelease(grant, chainPermit);
  if (!chain.keySwitchAllowed) throw new AppError('FORBIDDEN', "The grant's terms do not allow key switching");
  const termsText = await readFile(termsFile(ctx, chain.termsHash), 'utf8').catch(() => null);
  if (termsText === null) {
    throw new AppError(
      'NOT_FOUND',
      "The grant's output-terms document is not on this machine (it was granted elsewhere)",
    );
  }
  const terms = parseOutputTerms(JSON.parse(termsText) as unknown);

  // The grantee's own public FHE key, as its identity token names it.
  const labSbtId = grant.granteeSbtId;
  const labDigest = (await ctx.contracts.IdentitySBT.fheKeyFingerprintOf(labSbtId)).toLowerCase();
  if (/^0x0+$/.test(labDigest)) throw new AppError('CONFLICT', 'The grantee has published no FHE key');
  const gateway = ctx.gateway();
  try {
    const labPublicKeys = await gateway.fetchIdentityKeys(labSbtId, labDigest);
    const resultBytes = await fetchPostedResult(ctx, active, {
      ...permit,
      resultCommitment: permit.resultCommitment,
    });
    const folder = datasetFolder(ctx, dataset.manifestCommitment);
    const manifest = await localManifest(ctx, dataset.manifestCommitment);
    let result;
    const kind = resultKindOf(permit.algorithmId);
    if (kind === 'genotype-counts') {
      const bySample = new Map(
        manifest.objects.flatMap((object) =>
          object.kind === 'genotypes' ? [[object.sampleIndex, object.digest]] : [],
        ),
      );
      await verifyGenotypeSum(await loadSeal(), manifest.genotypeLayout, resultBytes, async (sample) =>
        readFile(path.join(folder, OBJECTS_DIR, bySample.get(sample)!)),
      );
      result = { kind: 'genotype-counts' as const, layout: manifest.genotypeLayout, bytes: resultBytes };
    } else {
      if (kind !== 'numeric-sums') {
        throw new AppError(
          'CONFLICT',
          `Results of ${algorithmName(permit.algorithmId) ?? 'this algorithm'} cannot be key-switched`,
        );
      }
      if (!manifest.numericLayout) throw new AppError('CONFLICT', 'The dataset has no numeric columns');
      result = { kind: 'numeric-sums' as const, layout: manifest.numericLayout, bytes: resultBytes };
    }
    const secretKeys = await active.unlocked.readSecret(FHE_SECRET);
    let created;
    try {
      created = await ctx.deps.engine.createKeySwitchBundle({
        secretKeys,
        input: {
          permitId: BigInt(request.permitId),
          terms,
          chain,
          resultCommitment: permit.resultCommitment,
          result,
          labPublicKeys,
          options: result.kind === 'numeric-sums' ? { acceptComputationalHiding: true } : {},
        },
      });
    } finally {
      secretKeys.fill(0);
    }
    const receipt = await sendTx(active, 'Key-switch record', () =>
      active.contracts.DataAccess.recordKeySwitch(request.permitId, created.shareCommitment),
    );
    await writeFile(request.path, created.bundle, { flag: 'wx' });
    return {
      path: request.path,
      shareCommitment: created.shareCommitment,
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
    };
  } catch (error) {
    throw keySwitchError(error, 'The key-switched result could not be made');
  }
}

function keySwitchError(error: unknown, fallback: string): AppError {
  const code = (error as { keySwitchCode?: string }).keySwitchCode;
  const message = (error as Error).message;
  if (code === 'TERMS_FORBID') return new AppError('FORBIDDEN', message);
  if (code === 'INSUFFICIENT_MARGIN' || code === 'BAD_OBJECT') return new AppError('CONFLICT', message);
  if (code) return new AppError('BAD_REQUEST', message);
  return toAppError(error, fallback);
}

/** Lab, with no network: decrypts a bundle file with this profile's own FHE key and keeps the result sealed. */
export async function decryptBundleFile(ctx: CustodianContext, file: string): Promise<BundleView> {
  const active = ctx.requireActive();
  if (!path.isAbsolute(file)) throw new AppError('BAD_REQUEST', 'The bundle path must be absolute');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile() || info.size > MAX_BUNDLE_BYTES) throw new AppError('BAD_REQUEST', 'Not a result bundle file');
  const bytes = new Uint8Array(await readFile(file));
  const secretKeys = await active.unlocked.readSecret(FHE_SECRET).catch(() => {
    throw new AppError('FORBIDDEN', 'This profile has no FHE key to decrypt with');
  });
  let decrypted: DecryptedBundle;
  try {
    decrypted = await ctx.deps.engine.decryptKeySwitchBundle({ secretKeys, bundle: bytes });
  } catch (error) {
    throw keySwitchError(error, 'The bundle could not be decrypted');
  } finally {
    secretKeys.fill(0);
  }
  const view: StoredBundle = {
    format: 'cos.bundle.decrypted.v1',
    permitId: Number(decrypted.permitId),
    algorithm: algorithmName(decrypted.algorithmId),
    kind: decrypted.kind,
    excludedSamples: decrypted.excludedSamples.length,
    resultCommitment: decrypted.resultCommitment,
    shareCommitment: decrypted.shareCommitment,
    termsHash: decrypted.termsHash,
    verified: null,
    verifyError: null,
    result: {
      ...(decryptedJson(decrypted) as object),
      kind: decrypted.kind,
      // The statistics the owner would show (no variant table travels in a bundle: rows carry SNP indices).
      table: decrypted.kind === 'genotype-counts' ? tableOf(decrypted) : null,
      algorithmId: decrypted.algorithmId,
      bundleSha256: createHash('sha256').update(bytes).digest('hex'),
    },
  };
  await active.unlocked.writeSecret(
    bundleSecretName(ctx.deps.chainId, view.permitId),
    Buffer.from(JSON.stringify(view)),
  );
  return strip(view);
}

function tableOf(decrypted: DecryptedBundle & { kind: 'genotype-counts' }): unknown {
  try {
    return jsonSafe(interpretResult(decrypted.algorithmId.toLowerCase(), decrypted, {}));
  } catch {
    return null;
  }
}

function strip(stored: StoredBundle): BundleView {
  const { format: _format, ...view } = stored;
  return view;
}

async function storedBundles(ctx: CustodianContext): Promise<StoredBundle[]> {
  const active = ctx.requireActive();
  const prefix = `${BUNDLE_PREFIX}${ctx.deps.chainId}-`;
  const names = (await active.unlocked.listSecrets()).filter((name) => name.startsWith(prefix));
  const out: StoredBundle[] = [];
  for (const name of names)
    out.push(JSON.parse((await active.unlocked.readSecret(name)).toString('utf8')) as StoredBundle);
  return out.sort((a, b) => b.permitId - a.permitId);
}

export async function listBundles(ctx: CustodianContext): Promise<BundleView[]> {
  return (await storedBundles(ctx)).map(strip);
}

/** Lab, online again: the bundle's claims against the chain (the permit's result, the grant's terms, KeySwitchIssued). */
export async function verifyBundle(ctx: CustodianContext, permitId: number): Promise<BundleView> {
  const active = ctx.requireActive();
  const stored = (await storedBundles(ctx)).find((bundle) => bundle.permitId === permitId);
  if (!stored) throw new AppError('NOT_FOUND', `No decrypted bundle for permit ${permitId}`);
  const access = ctx.contracts.DataAccess;
  let facts;
  try {
    const permit = await access.getJobPermit(permitId);
    const grant = await access.getGrant(permit.grantId);
    const events = await ctx.deps.provider.getLogs({
      address: ctx.addresses.DataAccess,
      topics: [access.interface.getEvent('KeySwitchIssued')!.topicHash, zeroPadValue(toBeHex(permitId), 32)],
      fromBlock: ctx.deps.deployment.deployedAtBlock,
      toBlock: 'latest',
    });
    facts = {
      resultCommitment: permit.resultCommitment,
      termsHash: grant.termsHash,
      algorithmId: permit.algorithmId,
      shareCommitments: events.map((log) => String(access.interface.parseLog(log)!.args.getValue('shareCommitment'))),
    };
  } catch (error) {
    throw toAppError(error, 'The chain could not be asked');
  }
  let verified = true;
  let verifyError: string | null = null;
  try {
    checkBundleAgainstChain(
      {
        resultCommitment: stored.resultCommitment,
        termsHash: stored.termsHash,
        shareCommitment: stored.shareCommitment,
        algorithmId: (stored.result as { algorithmId: string }).algorithmId,
      },
      facts,
    );
  } catch (error) {
    verified = false;
    verifyError = (error as Error).message;
  }
  const updated: StoredBundle = { ...stored, verified, verifyError };
  await active.unlocked.writeSecret(bundleSecretName(ctx.deps.chainId, permitId), Buffer.from(JSON.stringify(updated)));
  return strip(updated);
}
