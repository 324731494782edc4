import { createHash } from 'node:crypto';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALGORITHMS, OP, connectCosContracts } from '../../../shared/contracts';
import { parseSecretKeyBundle, referenceGenotypeCounts } from '../../../shared/fhe';
import { readPlainCohort } from '../fhe/testing/cohort';
import { readSealedFile } from '../keys/sealed-file';
import { filesUnder, keytar } from '../keys/testing/integration';
import { GatewayClient } from '../../../shared/gateway/client';
import { resultUri } from '../../../shared/gateway/protocol';
import type { ChannelResponse } from '../../../shared/ipc/contract';
import { ORCHESTRATOR_KEY, ipc, ipcError, startStack, until, waitForEvent, type Machine, type Stack } from './testing';

// The custodian's use cases end to end on one real devnet: anvil with the contracts, the gateway and the
// orchestrator as processes, a real keychain, real SQLite caches and node-seal. Three machines (steward,
// lab, donor) are three cores with their own data folders and keychain services.

const tiny = path.resolve('resources/cohorts/tiny');
let stack: Stack;
let steward: Machine;
let labMachine: Machine;
let imported: ChannelResponse<'datasets.import'>;
let requested: ChannelResponse<'access.request'>;
let donorSbtId: number;
const ZERO = `0x${'00'.repeat(32)}`;
let work: string;
let chain: Stack['chain'];
const machines: Machine[] = [];
const serviceLogs: string[] = [];
function startMachine(name: string): Machine {
  const machine = stack.startMachine(name);
  machines.push(machine);
  return machine;
}

beforeAll(async () => {
  stack = await startStack();
  work = stack.work;
  chain = stack.chain;
}, 120_000);

afterAll(async () => {
  serviceLogs.push(...(stack?.serviceLogs ?? []));
  await stack?.stop();
});

describe('custodian use cases on a real devnet', () => {
  it('onboards, registers, grants, computes, decrypts, settles and audits', async () => {
    steward = startMachine('steward');
    const lab = (labMachine = startMachine('lab'));
    const donor = startMachine('donor');

    // Onboarding: keys in the vault, identity tokens on chain, FHE key digest published.
    const stewardProfile = await ipc(steward, 'profiles.create', {
      label: 'Hospital data office',
      role: 'steward',
    });
    expect(stewardProfile.fheKeyDigest).toMatch(/^0x[0-9a-f]{64}$/);
    const onboarded = await ipc(steward, 'profiles.onboard', {});
    expect(onboarded.sbtId).toBeGreaterThan(0);
    const identity = connectCosContracts(chain.contracts, chain.provider).IdentitySBT;
    expect(await identity.fheKeyFingerprintOf(onboarded.sbtId!)).toBe(stewardProfile.fheKeyDigest);
    await ipc(lab, 'profiles.create', { label: 'Genomics lab', role: 'lab' });
    const labProfile = await ipc(lab, 'profiles.onboard', {});
    // The lab's public FHE key bundle is public at the gateway, under its identity.
    const published = new GatewayClient({
      baseUrl: stack.gateway.url,
      chainId: chain.chainId,
      dataAccess: chain.contracts.DataAccess,
    });
    const labKeys = await published.fetchIdentityKeys(labProfile.sbtId!, labProfile.fheKeyDigest!);
    published.close();
    expect(Buffer.from(labKeys)).toEqual(await readFile(path.join(lab.dataDir, 'public-keys', `${labProfile.id}.bin`)));
    expect(labProfile.sbtId).toBeGreaterThan(onboarded.sbtId!);
    await ipc(donor, 'profiles.create', { label: 'Donor', role: 'donor' });
    const donorProfile = await ipc(donor, 'profiles.onboard', {});
    donorSbtId = donorProfile.sbtId!;
    expect(donorProfile.fheKeyDigest).toBeNull();

    // The steward's cohort names the donor's real token for sample 0.
    const csv = (await readFile(path.join(tiny, 'phenotypes.csv'), 'utf8')).split('\n');
    const first = csv[1]!.split(',');
    const donorSample = first[0]!;
    first[1] = String(donorProfile.sbtId);
    csv[1] = first.join(',');
    const csvPath = path.join(work, 'phenotypes.csv');
    await writeFile(csvPath, csv.join('\n'));
    const vcfPath = path.join(tiny, 'cohort.vcf');

    // Bad input changes nothing: a malformed VCF is refused with a typed error, no dataset appears.
    const badVcf = path.join(work, 'bad.vcf');
    await writeFile(
      badVcf,
      '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS00001\n1\tnot-a-number\n',
    );
    const bad = await ipcError(steward, 'datasets.import', {
      vcfPath: badVcf,
      phenotypeCsvPath: csvPath,
      phenotypeColumn: 'case',
      consentCodes: '2',
      taskId: 'bad',
    });
    expect(bad.code).toBe('BAD_REQUEST');
    expect((await readdir(path.join(steward.dataDir, 'datasets'))).filter((name) => !name.startsWith('.'))).toEqual([]);

    const progress: number[] = [];
    const off = steward.core.events.subscribe((name, payload) => {
      if (name === 'progress' && (payload as { taskId: string }).taskId === 'import-1') progress.push(1);
    });
    imported = await ipc(steward, 'datasets.import', {
      vcfPath,
      phenotypeCsvPath: csvPath,
      phenotypeColumn: 'case',
      consentCodes: '6', // GRU | HMB
      royaltyBps: 500,
      taskId: 'import-1',
    });
    off();
    expect(progress.length).toBeGreaterThan(2);
    expect(imported.samples).toBe(40);
    const datasetId = imported.dataset.datasetId;
    const registry = connectCosContracts(chain.contracts, chain.provider).DatasetRegistry;
    const onChain = await registry.dataset(datasetId);
    expect(onChain.manifestCommitment).toBe(imported.dataset.manifestCommitment);
    expect(onChain.fheKeyFingerprint).toBe(stewardProfile.fheKeyDigest);
    await until('dataset in the cache', async () =>
      (await ipc(steward, 'datasets.list', {})).find((d) => d.datasetId === datasetId),
    );

    // The donor receives its consent receipt from the steward and keeps it in its vault.
    const receiptFile = path.join(work, 'receipt.json');
    await copyFile(path.join(imported.consentReceiptsDir, `donor-${donorProfile.sbtId}.json`), receiptFile);
    expect(await ipc(donor, 'consent.importReceipt', { path: receiptFile })).toEqual({
      datasetId,
      donorSbtId: donorProfile.sbtId,
    });
    const forged = path.join(work, 'forged.json');
    const receiptJson = JSON.parse(await readFile(receiptFile, 'utf8')) as { consentCommitment: string };
    await writeFile(forged, JSON.stringify({ ...receiptJson, consentCommitment: keccak256(toUtf8Bytes('forged')) }));
    expect((await ipcError(donor, 'consent.importReceipt', { path: forged })).code).toBe('BAD_REQUEST');

    // The lab asks; the steward sees the request and grants with clauses and a fee.
    requested = await ipc(lab, 'access.request', {
      datasetId,
      opMask: OP.COMPUTE | OP.READ,
      purposeCodes: '4',
      purposeText: 'Case-control association study of variant burden',
    });
    await until('request in the steward cache', async () =>
      (await ipc(steward, 'requests.list', { mine: true })).find((r) => r.grantId === requested.grantId),
    );
    const now = Math.floor(Date.now() / 1000);
    const fee = 10n ** 18n;
    await ipc(steward, 'access.grant', {
      grantId: requested.grantId,
      terms: {
        opMask: OP.COMPUTE | OP.READ,
        notBefore: now - 60,
        expiry: now + 86_400,
        maxRuns: 10,
        rateWindow: 0,
        rateMaxRuns: 0,
        region: '',
        epsilonCap: 3_000_000,
        deltaCap: '1000000000',
        termsHash: keccak256(toUtf8Bytes('terms: derivative only')),
        keySwitchAllowed: false,
        feePerUse: fee.toString(),
        ownerBps: 7000,
        donorsBps: 2000,
      },
    });
    // A grant by someone who does not own the dataset is refused with the contract's reason.
    const notOwner = await ipcError(lab, 'access.grant', {
      grantId: requested.grantId,
      terms: {
        opMask: OP.READ,
        notBefore: now,
        expiry: now + 10,
        maxRuns: 1,
        rateWindow: 0,
        rateMaxRuns: 0,
        region: '',
        epsilonCap: 0,
        deltaCap: '0',
        termsHash: keccak256(toUtf8Bytes('x')),
        keySwitchAllowed: false,
        feePerUse: '0',
        ownerBps: 10000,
        donorsBps: 0,
      },
    });
    expect(['FORBIDDEN', 'CONFLICT']).toContain(notOwner.code);
    await ipc(lab, 'access.fund', { grantId: requested.grantId, runs: 3 });

    // The donor withdraws before the job: the orchestrator must leave its sample out.
    await ipc(donor, 'consent.withdraw', { datasetId });
    expect((await ipc(donor, 'consent.list', {}))[0]).toMatchObject({ datasetId, withdrawn: true });

    // The lab issues a permit; the orchestrator computes and posts; the steward decrypts on its own.
    const decrypted = waitForEvent(steward, 'result.decrypted', () => true, 90_000);
    const permit = await ipc(lab, 'permits.issue', {
      grantId: requested.grantId,
      algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
      epsilon: 1_000_000,
      delta: '1000',
      params: {},
    });
    await decrypted;
    const result = await ipc(steward, 'results.get', { permitId: permit.permitId });
    expect(result.state).toBe('decrypted');
    expect(result.excludedSamples).toBe(1);
    const plain = await readPlainCohort(vcfPath, csvPath);
    const donorIndex = plain.samples.indexOf(donorSample);
    const expected = referenceGenotypeCounts(plain.genotypes, plain.phenotypes, new Set([donorIndex]));
    const got = (result.result as { counts: { control: number[][]; case: number[][] } }).counts;
    expect(got.control).toEqual(expected.control.map((a) => Array.from(a)));
    expect(got.case).toEqual(expected.case.map((a) => Array.from(a)));
    expect((await ipc(lab, 'results.get', { permitId: permit.permitId })).state).toBe('not-owner');

    // Privacy budget and runs, from the cache.
    const grant = await until('budget charged', async () =>
      (await ipc(steward, 'grants.list', { datasetId })).find(
        (g) => g.grantId === requested.grantId && g.epsilonSpent > 0,
      ),
    );
    expect(grant).toMatchObject({ epsilonCap: 3_000_000, epsilonSpent: 1_000_000, runsUsed: 1, jobPermitCount: 1 });

    // Settlement: the owner's share becomes claimable, and is claimed.
    await ipc(steward, 'royalties.settle', { grantId: requested.grantId });
    const balances = await ipc(steward, 'royalties.get', {});
    expect(BigInt(balances.claimable)).toBeGreaterThanOrEqual((fee * 7000n) / 10000n);
    const claimed = await ipc(steward, 'royalties.claim', {});
    expect(claimed.amount).toBe(balances.claimable);

    // A derivative can be exported, once.
    const derivative = path.join(work, 'derivative.json');
    const exported = await ipc(steward, 'results.exportDerivative', { permitId: permit.permitId, path: derivative });
    expect(exported.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(
      (await ipcError(steward, 'results.exportDerivative', { permitId: permit.permitId, path: derivative })).code,
    ).not.toBe('INTERNAL');

    // Audit: the cache holds the story and each row verifies against the chain; a doctored row does not.
    const audit = await until('audit rows', async () => {
      const page = await ipc(steward, 'audit.list', { datasetId, limit: 100 });
      return page.rows.some((row) => row.name === 'JobResultPosted') ? page : null;
    });
    const names = new Set(audit.rows.map((row) => row.name));
    for (const name of [
      'DatasetRegistered',
      'Requested',
      'Granted',
      'ConsentWithdrawn',
      'JobPermitIssued',
      'JobResultPosted',
    ]) {
      expect(names).toContain(name);
    }
    const granted = audit.rows.find((row) => row.name === 'Granted')!;
    expect(await ipc(steward, 'audit.verify', { id: granted.id })).toEqual({
      id: granted.id,
      verified: true,
      reason: null,
    });
    steward.core
      .database!.prepare(`UPDATE audit_events SET args = json_set(args, '$.grantId', '999') WHERE id = ?`)
      .run(granted.id);
    const doctored = await ipc(steward, 'audit.verify', { id: granted.id });
    expect(doctored.verified).toBe(false);
    expect((await ipcError(steward, 'audit.verify', { id: 10_000_000 })).code).toBe('NOT_FOUND');

    // Bad IPC input is refused before any handler runs.
    expect((await ipcError(steward, 'access.revoke', { grantId: -1 } as never)).code).toBe('BAD_REQUEST');
    expect((await ipcError(steward, 'datasets.import', { vcfPath: 'relative.vcf' } as never)).code).toBe('BAD_REQUEST');
  }, 240_000);

  it('decrypts a result posted while the app was closed, and refuses a tampered one', async () => {
    const lab = labMachine;
    const access = connectCosContracts(chain.contracts, chain.provider).DataAccess;
    const stewardProfileId = (await ipc(steward, 'profiles.list', {})).find((p) => p.active)!.id;

    // The steward's app is closed while the next job runs and posts its result.
    await stack.stopMachine(steward);
    const permit = await ipc(lab, 'permits.issue', {
      grantId: requested.grantId,
      algorithmId: ALGORITHMS.GWAS_ALLELIC_CHISQ.id,
      epsilon: 500_000,
      delta: '0',
      params: {},
    });
    await until(
      'result posted',
      async () => (await access.getJobPermit(permit.permitId)).resultCommitment !== ZERO,
      60_000,
    );

    // Reopened on the same folder and keychain: the cache catches up and the result is decrypted on unlock.
    steward = stack.startMachine('steward', { dataDir: steward.dataDir, service: steward.service });
    machines.push(steward);
    const decrypted = waitForEvent(
      steward,
      'result.decrypted',
      (p: { permitId: number }) => p.permitId === permit.permitId,
    );
    await until('permit in the cache', async () =>
      (await ipc(steward, 'permits.list', {})).find(
        (p) => p.permitId === permit.permitId && p.status === 'ResultPosted',
      ),
    );
    await ipc(steward, 'profiles.unlock', { profileId: stewardProfileId });
    await decrypted;
    const view = await ipc(steward, 'results.get', { permitId: permit.permitId });
    expect(view.state).toBe('decrypted');
    const table = (view.result as { table: { rows: { chisq: number | null; p: number | null }[] } }).table;
    expect(table.rows).toHaveLength(64);
    expect(table.rows.some((row) => row.chisq !== null && row.p !== null && row.p >= 0 && row.p <= 1)).toBe(true);

    // Three runs were prepaid; this test's jobs need one more.
    await ipc(lab, 'access.fund', { grantId: requested.grantId, runs: 1 });

    // A job with parameters (the mean and variance of one column): the lab's app hands them to the
    // orchestrator, which checks them against the permit's paramsHash before it runs.
    const meanPermit = await ipc(lab, 'permits.issue', {
      grantId: requested.grantId,
      algorithmId: ALGORITHMS.MEAN_VARIANCE.id,
      epsilon: 100_000,
      delta: '0',
      params: { column: 'age' },
    });
    await waitForEvent(
      steward,
      'result.decrypted',
      (p: { permitId: number }) => p.permitId === meanPermit.permitId,
      90_000,
    );
    const meanView = await ipc(steward, 'results.get', { permitId: meanPermit.permitId });
    expect(meanView.state).toBe('decrypted');
    const sums = (meanView.result as { raw: { sums: { column: string; count: number; sum: number }[] } }).raw.sums;
    const age = sums.find((entry) => entry.column === 'age')!;
    const plain = await readPlainCohort(path.join(tiny, 'cohort.vcf'), path.join(work, 'phenotypes.csv'));
    const ages = plain.covariates[plain.covariateColumns.indexOf('age')]!;
    const kept = [...ages].filter(
      (value, sample) => !Number.isNaN(value) && plain.consentIds[sample] !== String(donorSbtId),
    );
    expect(age.count).toBe(kept.length);
    expect(age.sum).toBeCloseTo(
      kept.reduce((total, value) => total + value, 0),
      2,
    );

    // A tampered result: posted by the orchestrator's account with bytes that are not an honest aggregate.
    const tamperedPermit = await ipc(lab, 'permits.issue', {
      grantId: requested.grantId,
      algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
      epsilon: 0,
      delta: '0',
      params: { not: 'accepted' },
    });
    const orchestrator = new Wallet(ORCHESTRATOR_KEY, chain.provider);
    const garbage = new Uint8Array(4096).map((_, i) => (i * 31) % 251);
    const gatewayClient = new GatewayClient({
      baseUrl: stack.gateway.url,
      chainId: chain.chainId,
      dataAccess: chain.contracts.DataAccess,
    });
    await gatewayClient.upload(orchestrator, garbage);
    gatewayClient.close();
    const failed = waitForEvent(
      steward,
      'result.decrypted',
      (p: { permitId: number }) => p.permitId === tamperedPermit.permitId,
    );
    // The orchestrator never runs this permit (its parameters do not fit the algorithm), so ours is the only result.
    await (
      await connectCosContracts(chain.contracts, orchestrator).DataAccess.postJobResult(
        tamperedPermit.permitId,
        `0x${createHash('sha256').update(garbage).digest('hex')}`,
        resultUri(stack.gateway.url, BigInt(tamperedPermit.permitId)),
      )
    ).wait();
    await failed;
    const refused = await ipc(steward, 'results.get', { permitId: tamperedPermit.permitId });
    expect(refused.state).toBe('failed');
    expect(refused.result).toBeNull();
    expect(refused.error).toMatch(/result|envelope|frame|invalid/i);
  }, 180_000);

  it('lets the lab read under a ticket until revocation bites', async () => {
    const datasetId = imported.dataset.datasetId;
    // The lab reads under a ticket: the manifest, then an object it lists (each serve is a recorded use).
    const lab = labMachine;
    // The three prepaid runs went to permits; fee-bearing reads need more escrow first.
    expect((await ipcError(lab, 'tickets.request', { datasetId, op: OP.READ })).code).toBe('FORBIDDEN');
    await ipc(lab, 'access.fund', { grantId: requested.grantId, runs: 4 });
    const ticket = await ipc(lab, 'tickets.request', { datasetId, op: OP.READ });
    expect(ticket.expiry).toBeGreaterThan(Math.floor(Date.now() / 1000) + 800);
    expect((await ipc(lab, 'tickets.list', {})).map((t) => t.ticketHash)).toEqual([ticket.ticketHash]);
    const manifestFile = await ipc(lab, 'objects.fetch', { ticketHash: ticket.ticketHash });
    expect(`0x${manifestFile.sha256}`).toBe(imported.dataset.manifestCommitment);
    const manifest = JSON.parse(await readFile(manifestFile.path, 'utf8')) as { objects: { digest: string }[] };
    const object = await ipc(lab, 'objects.fetch', {
      ticketHash: ticket.ticketHash,
      digest: manifest.objects[0]!.digest,
    });
    expect(object.sha256).toBe(manifest.objects[0]!.digest);
    // A ticket for an op the grant does not include is refused by the gateway.
    expect((await ipcError(lab, 'tickets.request', { datasetId, op: OP.EXPORT })).code).toBe('FORBIDDEN');

    // Revocation by the owner: the lab's next fetch with the same ticket fails within seconds.
    await ipc(steward, 'access.revoke', { grantId: requested.grantId });
    const revokedAt = Date.now();
    await until(
      'the gateway refuses the revoked grant',
      async () => {
        const result = await ipcError(lab, 'objects.fetch', {
          ticketHash: ticket.ticketHash,
          digest: manifest.objects[1]!.digest,
        }).catch(() => null);
        return result?.code === 'FORBIDDEN';
      },
      10_000,
    );
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    await until('revocation in the cache', async () =>
      (await ipc(steward, 'grants.list', { datasetId })).find(
        (g) => g.grantId === requested.grantId && g.status === 'Revoked',
      ),
    );

    // The file picker's view of this machine and the bundled cohorts need no network.
    const samples = await ipc(steward, 'files.samples', {});
    expect(samples.map((sample) => sample.name)).toContain('tiny');
    const listing = await ipc(steward, 'files.list', { dir: path.dirname(samples[0]!.vcfPath) });
    expect(listing.entries.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['cohort.vcf', 'phenotypes.csv']),
    );
    expect((await ipcError(steward, 'files.list', { dir: 'relative/dir' })).code).toBe('BAD_REQUEST');
  }, 240_000);

  it('releases results as the output terms say: key switching to the lab, or an exact or noised derivative', async () => {
    const lab = labMachine;
    const datasetId = imported.dataset.datasetId;
    const firstPermit = (await ipc(steward, 'permits.list', {})).find((p) => p.grantId === requested.grantId)!;
    // The first grant's terms forbid key switching: refused, no material, no file.
    const refusedPath = path.join(work, 'refused.bundle');
    const refused = await ipcError(steward, 'results.keySwitch', { permitId: firstPermit.permitId, path: refusedPath });
    expect(refused.code).toBe('FORBIDDEN');
    expect(await readFile(refusedPath).catch(() => null)).toBeNull();

    // A new request, granted with output terms that allow key switching of allele counts.
    const second = await ipc(lab, 'access.request', {
      datasetId,
      opMask: OP.COMPUTE,
      purposeCodes: '4',
      purposeText: 'Allele frequencies for a replication cohort',
    });
    await until('second request cached', async () =>
      (await ipc(steward, 'requests.list', {})).find((r) => r.grantId === second.grantId),
    );
    const now = Math.floor(Date.now() / 1000);
    await ipc(steward, 'access.grant', {
      grantId: second.grantId,
      terms: {
        opMask: OP.COMPUTE,
        notBefore: now - 60,
        expiry: now + 86_400,
        maxRuns: 3,
        rateWindow: 0,
        rateMaxRuns: 0,
        region: '',
        epsilonCap: 1_000_000,
        deltaCap: '0',
        outputTerms: {
          format: 'cos.terms.output.v1',
          keySwitching: { allowed: true },
          releasableAlgorithms: [ALGORITHMS.ALLELE_COUNTS.id],
          differentialPrivacy: { mechanism: 'none' },
          retention: { days: 365 },
        },
        feePerUse: '0',
        ownerBps: 9000,
        donorsBps: 1000,
      },
    });
    const access = connectCosContracts(chain.contracts, chain.provider).DataAccess;
    expect((await access.getGrant(second.grantId)).keySwitchAllowed).toBe(true);
    const decrypted = waitForEvent(steward, 'result.decrypted', () => true, 90_000);
    const permit = await ipc(lab, 'permits.issue', {
      grantId: second.grantId,
      algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
      epsilon: 0,
      delta: '0',
      params: {},
    });
    await decrypted;
    const ownerView = await ipc(steward, 'results.get', { permitId: permit.permitId });
    expect(ownerView.state).toBe('decrypted');

    const bundlePath = path.join(work, 'result.bundle');
    const issued = await ipc(steward, 'results.keySwitch', { permitId: permit.permitId, path: bundlePath });
    expect(issued.shareCommitment).toMatch(/^0x[0-9a-f]{64}$/);

    // The lab decrypts with its own key and no network call (the bundle is a file), then checks the chain.
    const labView = await ipc(lab, 'bundles.decrypt', { path: bundlePath });
    expect(labView).toMatchObject({
      permitId: permit.permitId,
      kind: 'genotype-counts',
      verified: null,
      excludedSamples: 1,
    });
    const ownerCounts = (ownerView.result as { counts: unknown }).counts;
    expect((labView.result as { counts: unknown }).counts).toEqual(ownerCounts);
    expect((labView.result as { table: { rows: unknown[] } }).table.rows).toHaveLength(64);
    expect(await ipc(lab, 'bundles.verify', { permitId: permit.permitId })).toMatchObject({
      verified: true,
      verifyError: null,
    });
    expect((await ipc(lab, 'bundles.list', {})).map((b) => b.permitId)).toEqual([permit.permitId]);
    // Another profile's key cannot open it.
    expect((await ipcError(steward, 'bundles.decrypt', { path: bundlePath })).code).toBe('BAD_REQUEST');
    // Under the same terms (no noise) the exact derivative names its terms.
    const exactPath = path.join(work, 'exact-derivative.json');
    await ipc(steward, 'results.exportDerivative', { permitId: permit.permitId, path: exactPath });
    const exact = JSON.parse(await readFile(exactPath, 'utf8')) as {
      outputTerms: { keySwitching: unknown };
      noise: unknown;
    };
    expect(exact.outputTerms.keySwitching).toEqual({ allowed: true });
    expect(exact.noise).toBeNull();

    // Terms that demand Laplace noise: no key switching; the derivative carries noised counts, and a permit
    // that charged another ε than the terms state gets no derivative at all.
    await ipc(steward, 'access.revoke', { grantId: second.grantId });
    const third = await ipc(lab, 'access.request', {
      datasetId,
      opMask: OP.COMPUTE,
      purposeCodes: '4',
      purposeText: 'Noised allele counts for teaching',
    });
    await until('third request cached', async () =>
      (await ipc(steward, 'requests.list', {})).find((r) => r.grantId === third.grantId),
    );
    await ipc(steward, 'access.grant', {
      grantId: third.grantId,
      terms: {
        opMask: OP.COMPUTE,
        notBefore: now - 60,
        expiry: now + 86_400,
        maxRuns: 3,
        rateWindow: 0,
        rateMaxRuns: 0,
        region: '',
        epsilonCap: 3_000_000,
        deltaCap: '0',
        outputTerms: {
          format: 'cos.terms.output.v1',
          keySwitching: { allowed: false },
          releasableAlgorithms: [ALGORITHMS.ALLELE_COUNTS.id],
          differentialPrivacy: { mechanism: 'laplace', epsilonMicros: 1_000_000, deltaAtto: '0' },
          retention: { days: null },
        },
        feePerUse: '0',
        ownerBps: 10_000,
        donorsBps: 0,
      },
    });
    const noisyDone = waitForEvent(steward, 'result.decrypted', () => true, 90_000);
    const noisyPermit = await ipc(lab, 'permits.issue', {
      grantId: third.grantId,
      algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
      epsilon: 1_000_000,
      delta: '0',
      params: {},
    });
    await noisyDone;
    expect(
      (
        await ipcError(steward, 'results.keySwitch', {
          permitId: noisyPermit.permitId,
          path: path.join(work, 'no.bundle'),
        })
      ).code,
    ).toBe('FORBIDDEN');
    const noisyPath = path.join(work, 'noisy-derivative.json');
    await ipc(steward, 'results.exportDerivative', { permitId: noisyPermit.permitId, path: noisyPath });
    const noisy = JSON.parse(await readFile(noisyPath, 'utf8')) as {
      noise: { mechanism: string; scale: number };
      result: { counts: { control: number[][]; case: number[][] } };
    };
    expect(noisy.noise).toMatchObject({ mechanism: 'laplace', scale: 64 });
    const exactCounts = (ownerView.result as { counts: { control: number[][]; case: number[][] } }).counts;
    expect(noisy.result.counts.control).not.toEqual(exactCounts.control);
    expect(noisy.result.counts.control.flat().every((value) => Number.isInteger(value) && value >= 0)).toBe(true);
    const cheapDone = waitForEvent(steward, 'result.decrypted', () => true, 90_000);
    const cheapPermit = await ipc(lab, 'permits.issue', {
      grantId: third.grantId,
      algorithmId: ALGORITHMS.ALLELE_COUNTS.id,
      epsilon: 10,
      delta: '0',
      params: {},
    });
    await cheapDone;
    const cheap = await ipcError(steward, 'results.exportDerivative', {
      permitId: cheapPermit.permitId,
      path: path.join(work, 'cheap.json'),
    });
    expect(cheap.code).toBe('FORBIDDEN');
  }, 240_000);

  it('leaked no key to IPC, logs, SQLite or the services', async () => {
    // Leak scan: no wallet key and no FHE secret key in IPC traffic, logs, SQLite files, or anything the
    // gateway or orchestrator received, stored or logged.
    const secrets: { name: string; bytes: Buffer }[] = [];
    // The steward's machine was restarted: ask the live core of each data folder for its profiles.
    const live = [...new Map(machines.map((machine) => [machine.dataDir, machine])).values()];
    for (const machine of live) {
      for (const profile of await ipc(machine, 'profiles.list', {})) {
        const masterKey = Buffer.from(
          (await keytar.getPassword(machine.service, `profile:${profile.id}`))!.split(':')[1]!,
          'base64',
        );
        const profileDir = path.join(machine.dataDir, 'profiles', profile.id, 'secrets');
        const wallet = await readSealedFile(path.join(profileDir, 'wallet.sealed'), masterKey, {
          profileId: profile.id,
          secretName: 'wallet',
        });
        expect(new Wallet(`0x${wallet.toString('hex')}`).address).toBe(profile.address);
        secrets.push({ name: `${machine.name} wallet`, bytes: wallet });
        if (profile.fheKeyDigest) {
          const bundle = await readSealedFile(path.join(profileDir, 'fhe.sealed'), masterKey, {
            profileId: profile.id,
            secretName: 'fhe',
          });
          for (const key of parseSecretKeyBundle(bundle).keys) {
            for (let offset = 1024; offset + 32 <= key.bytes.length; offset += 16 * 1024) {
              secrets.push({
                name: `${machine.name} fhe ${key.parameterSetId}`,
                bytes: Buffer.from(key.bytes.subarray(offset, offset + 32)),
              });
            }
          }
        }
      }
    }
    expect(secrets.length).toBeGreaterThan(10);
    const haystacks: [string, Buffer][] = [];
    for (const machine of machines) {
      const text = [machine.traffic, machine.logs].map(
        (value) => JSON.stringify(value) + inspect(value, { depth: Infinity }),
      );
      haystacks.push([`${machine.name} ipc+logs`, Buffer.from(text.join('\n'))]);
      for (const [file, content] of await filesUnder(path.join(machine.dataDir, 'cache'))) {
        haystacks.push([`${machine.name} sqlite ${file}`, content]);
      }
      for (const [file, content] of await filesUnder(path.join(machine.dataDir, 'datasets'))) {
        haystacks.push([`${machine.name} upload ${file}`, content]);
      }
    }
    for (const [file, content] of await filesUnder(path.join(work, 'gateway')))
      haystacks.push([`gateway ${file}`, content]);
    for (const [file, content] of await filesUnder(path.join(work, 'orchestrator')))
      haystacks.push([`orchestrator ${file}`, content]);
    haystacks.push(['service logs', Buffer.from(stack.serviceLogs.join('\n'))]);
    const hits: string[] = [];
    for (const { name, bytes } of secrets) {
      const needles = [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64'))];
      for (const [where, content] of haystacks)
        if (needles.some((needle) => content.includes(needle))) hits.push(`${name} in ${where}`);
    }
    expect(haystacks.length).toBeGreaterThan(20);
    expect(hits).toEqual([]);
  }, 240_000);
});
