import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { id, sha256 } from 'ethers';
import type { SEALLibrary } from 'node-seal/implementation/seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptGenotypeCounts } from '../../../electron/main/fhe/decrypt';
import { mined, startDevChain, type DevChain } from '../../../electron/main/chain/watcher-fixture';
import {
  ALGORITHMS,
  BurnAuth,
  OP,
  ROLE,
  buildConsentTree,
  decodeCosError,
  decodeCosEvent,
  revertDataOf,
} from '../../contracts';
import { onChainRelease, termsHash, type OutputTerms } from '../../terms/terms';
import { parseSecretKeyBundle } from '../key-bundles';
import { loadSeal } from '../seal';
import { checkBundleAgainstChain } from './bundle';
import { keySwitchTerms, makeKeySwitchFixture, type KeySwitchFixture } from './testing';

/*
 * Issue 7 end to end on a real chain: terms hashed into a real grant, a real permit and posted result,
 * the owner's app (a child process) making the bundle and recording KeySwitchIssued, a leak scan of
 * everything that process emitted, and the lab (another child process, in a network namespace with no
 * network at all) decrypting offline; then the online check against the chain. A grant whose terms
 * forbid key switching gets a typed refusal and no bundle, and the chain refuses the record too.
 */

const run = promisify(execFile);
const child = fileURLToPath(new URL('./testing-child.ts', import.meta.url));
const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!canUnshare)
  console.warn('keyswitch offline test: `unshare -n` is unavailable (needs root); the lab runs unisolated');

let seal: SEALLibrary;
let work: string;
let fx: KeySwitchFixture;
let chain: DevChain;

beforeAll(async () => {
  seal = await loadSeal();
  work = await mkdtemp(path.join(os.tmpdir(), 'cos-keyswitch-int-'));
  // The chain first, so afterAll stops it even if the fixture fails.
  chain = await startDevChain();
  fx = await makeKeySwitchFixture(seal, path.join(work, 'fixture'));
}, 180_000);
afterAll(async () => {
  await chain?.stop();
  await rm(work, { recursive: true, force: true });
});

async function runChild(
  args: string[],
  isolate = false,
): Promise<{ json: Record<string, unknown>; stdout: string; stderr: string; code: number }> {
  const command = [process.execPath, '--import', 'tsx', child, ...args];
  const [file, ...rest] = isolate && canUnshare ? ['unshare', '-n', ...command] : command;
  try {
    const { stdout, stderr } = await run(file!, rest, { cwd: process.cwd(), maxBuffer: 64 * 1024 * 1024 });
    return { json: JSON.parse(stdout.trim().split('\n').pop()!), stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return {
      json: JSON.parse(failed.stdout.trim().split('\n').pop() ?? '{}'),
      stdout: failed.stdout,
      stderr: failed.stderr,
      code: failed.code,
    };
  }
}

/** A dataset, a grant under `terms` to the lab, a GWAS permit and its posted result: returns the permit id. */
async function grantWithResult(terms: OutputTerms, datasetNumber: number): Promise<bigint> {
  const { as } = chain;
  const tree = buildConsentTree([{ donorSbtId: 99n, consentCommitment: id(`consent ${datasetNumber}`) }]);
  await mined(
    as('steward').DatasetRegistry.registerDataset({
      manifestCommitment: id(`manifest ${datasetNumber}`),
      resourceURI: `cos://gateway/datasets/${datasetNumber}/manifest.json`,
      fheParamsHash: id('fhe params'),
      fheKeyFingerprint: sha256(fx.cohort.publicKeys),
      consentCodes: 6,
      consentRoot: tree.root,
      donorCount: 1,
      royaltyReceiver: '0x0000000000000000000000000000000000000000',
      royaltyBps: 0,
    }),
  );
  const datasetId = await chain.as('steward').DatasetRegistry.datasetCount();
  const purpose = id('cos.purpose:HMB');
  await mined(as('lab').DataAccess.request(datasetId, OP.COMPUTE, purpose, 6));
  const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp);
  await mined(
    as('steward').DataAccess.grant(await chain.as('steward').DataAccess.grantCount(), {
      opMask: OP.COMPUTE,
      notBefore: now,
      expiry: now + 86_400n,
      maxRuns: 3,
      rateWindow: 3_600,
      rateMaxRuns: 3,
      regionCode: '0x0000',
      epsilonCap: 3_000_000,
      deltaCap: 10n ** 12n,
      termsHash: termsHash(terms),
      keySwitchAllowed: terms.keySwitching.allowed,
      feePerUse: 0,
      ownerBps: 6_000,
      donorsBps: 3_000,
      platformBps: 1_000,
    }),
  );
  const grantId = await chain.as('steward').DataAccess.grantCount();
  await mined(
    as('lab').DataAccess.issueJobPermit(
      grantId,
      ALGORITHMS.GWAS_ALLELIC_CHISQ.id,
      purpose,
      1_000_000,
      10n ** 9n,
      id('params'),
    ),
  );
  const permitId = await chain.as('lab').DataAccess.permitCount();
  await mined(
    as('orchestrator').DataAccess.postJobResult(permitId, sha256(fx.gwasResult), `cos://gateway/results/${permitId}`),
  );
  return permitId;
}

/** What the owner's app reads from the chain and hands the bundle maker, as files for the child. */
async function ownerFolder(name: string, permitId: bigint, terms: OutputTerms): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  const permit = await chain.as('steward').DataAccess.getJobPermit(permitId);
  const release = onChainRelease(await chain.as('steward').DataAccess.getGrant(permit.grantId), permit);
  await writeFile(
    path.join(dir, 'request.json'),
    JSON.stringify({
      permitId: permitId.toString(),
      terms,
      chain: { ...release, epsilon: release.epsilon.toString(), delta: release.delta.toString() },
      resultCommitment: permit.resultCommitment,
      layout: fx.cohort.manifest.genotypeLayout,
    }),
  );
  await writeFile(path.join(dir, 'result.bin'), fx.gwasResult);
  await writeFile(path.join(dir, 'owner-secret.bin'), fx.cohort.secretKeys);
  await writeFile(path.join(dir, 'lab-public.bin'), fx.lab.publicKeys);
  return dir;
}

describe('key switching on a real chain', () => {
  it('owner issues and records a share; the lab decrypts offline exactly; the owner key never leaves', async () => {
    const { as } = chain;
    await mined(
      as('deployer').IdentitySBT.issue(await chain.signers.steward.getAddress(), ROLE.STEWARD, BurnAuth.Both),
    );
    await mined(as('lab').IdentitySBT.register(ROLE.LAB));
    await mined(as('lab').IdentitySBT.publishFheKey(sha256(fx.lab.publicKeys)));

    const terms = keySwitchTerms();
    const permitId = await grantWithResult(terms, 1);
    const dir = await ownerFolder('owner', permitId, terms);
    const owner = await runChild(['owner', dir]);
    expect(owner.code, owner.stdout + owner.stderr).toBe(0);
    const shareCommitment = owner.json.shareCommitment as string;
    expect(shareCommitment).toMatch(/^0x[0-9a-f]{64}$/);

    // Leak scan: windows of the owner's raw secret-key bytes (uniform NTT residues) in anything the
    // owner's process emitted (stdout, stderr, the bundle), raw, hex or base64.
    const needles = parseSecretKeyBundle(fx.cohort.secretKeys).keys.flatMap(({ bytes }) =>
      [0.1, 0.3, 0.5, 0.7, 0.9].map((at) =>
        Buffer.from(bytes.subarray(Math.floor(bytes.length * at), Math.floor(bytes.length * at) + 24)),
      ),
    );
    const bundle = await readFile(path.join(dir, 'bundle.bin'));
    for (const needle of needles) {
      expect(bundle.includes(needle)).toBe(false);
      for (const text of [owner.stdout, owner.stderr]) {
        expect(text.includes(needle.toString('hex'))).toBe(false);
        expect(text.includes(needle.toString('base64'))).toBe(false);
      }
    }
    // The positive control: the same scan finds the key in the file the owner process was given.
    expect((await readFile(path.join(dir, 'owner-secret.bin'))).includes(needles[0]!)).toBe(true);

    // The auditable event.
    const receipt = await (await as('steward').DataAccess.recordKeySwitch(permitId, shareCommitment)).wait();
    const events = receipt!.logs.map((log) => decodeCosEvent(chain.contracts, log)).filter((event) => event !== null);
    const issued = events.find((event) => event.name === 'KeySwitchIssued');
    expect(issued).toBeDefined();
    expect(String((issued!.args as { shareCommitment: string }).shareCommitment)).toBe(shareCommitment);

    // The lab's machine: only the bundle and its own secret keys, no network at all.
    const labDir = path.join(work, 'lab');
    await mkdir(labDir);
    await writeFile(path.join(labDir, 'bundle.bin'), bundle);
    await writeFile(path.join(labDir, 'lab-secret.bin'), fx.lab.secretKeys);
    const lab = await runChild(['lab', labDir, chain.anvil.rpcUrl], true);
    expect(lab.code, lab.stdout + lab.stderr).toBe(0);
    if (canUnshare) expect(lab.json.network).not.toBe('reachable');
    const reference = decryptGenotypeCounts(
      seal,
      fx.cohort.secretKeys,
      fx.cohort.manifest.genotypeLayout,
      fx.gwasResult,
    );
    const counts = lab.json.counts as Record<'case' | 'control', number[][]>;
    for (const group of ['case', 'control'] as const) {
      reference.counts[group].forEach((row, alt) => expect(counts[group][alt]).toEqual(Array.from(row)));
    }
    expect(lab.json.permitId).toBe(permitId.toString());

    // Back online: the lab checks its claims against the chain.
    const permit = await as('lab').DataAccess.getJobPermit(permitId);
    const grant = await as('lab').DataAccess.getGrant(permit.grantId);
    const logs = await chain.provider.getLogs({ address: chain.contracts.DataAccess, fromBlock: chain.startBlock });
    const recorded = logs
      .map((log) => decodeCosEvent(chain.contracts, log))
      .filter((event) => event?.name === 'KeySwitchIssued')
      .map((event) => String((event!.args as { shareCommitment: string }).shareCommitment));
    checkBundleAgainstChain(lab.json as never, {
      resultCommitment: permit.resultCommitment,
      termsHash: grant.termsHash,
      algorithmId: permit.algorithmId,
      shareCommitments: recorded,
    });
  });

  it('terms that forbid key switching: typed refusal, no material, and the chain refuses the record', async () => {
    const terms = keySwitchTerms({ keySwitching: { allowed: false } });
    const permitId = await grantWithResult(terms, 2);
    const dir = await ownerFolder('owner-forbidden', permitId, terms);
    const owner = await runChild(['owner', dir]);
    expect(owner.code).toBe(3);
    expect(owner.json.error).toBe('TERMS_FORBID');
    expect(await readdir(dir)).not.toContain('bundle.bin');
    let revert: unknown;
    try {
      await chain.as('steward').DataAccess.recordKeySwitch(permitId, id('anything'));
    } catch (error) {
      revert = error;
    }
    expect(decodeCosError(revertDataOf(revert)!)?.name).toBe('DataAccessKeySwitchNotAllowed');
  });
});
