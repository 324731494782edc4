/**
 * The orchestrator end to end, with nothing mocked: anvil with the contracts, the real gateway and
 * orchestrator processes, node-seal. A steward encrypts the tiny cohort and registers it, a lab gets a
 * COMPUTE grant and issues job permits; the orchestrator runs them and posts JobResult; the steward
 * decrypts and checks the counts against the plaintext reference (one donor withdrawn before the permit).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceGenotypeCounts, sameGenotypeCounts } from '../../shared/fhe/aggregate';
import { DEVNET_OPERATOR_KEYS } from '../devnet/operators';
import { ComputeFixture, ZERO32 } from './testing/fixture';

const tinyVcf = fileURLToPath(new URL('../../resources/cohorts/tiny/cohort.vcf', import.meta.url));
const tinyCsv = fileURLToPath(new URL('../../resources/cohorts/tiny/phenotypes.csv', import.meta.url));
/** Samples whose donors are real accounts on the test chain (the others are consent ids only). */
const SAMPLE_A = 6;
const SAMPLE_B = 21;

let fx: ComputeFixture;
let grantId: bigint;

beforeAll(async () => {
  fx = await ComputeFixture.start({ vcfPath: tinyVcf, csvPath: tinyCsv, donorSamples: [SAMPLE_A, SAMPLE_B] });
  grantId = await fx.grantCompute('lab', '0x4348');
  await fx.startOrchestrator();
}, 120_000);

afterAll(async () => {
  await fx?.stop();
});

describe('orchestrator (real anvil, gateway and orchestrator processes)', () => {
  it('runs a permit to JobResult, excluding the donor withdrawn at the permit block; decrypts to the plaintext counts', async () => {
    await fx.withdraw('donorA', SAMPLE_A);
    const permitId = await fx.issuePermit(grantId);
    // Withdrawn after the permit: the permit's block decides, so this donor is still counted.
    await fx.withdraw('donorB', SAMPLE_B);

    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(status.error).toBeNull();
    expect(status.state).toBe('posted');
    expect(status.resultURI).toBe(`${fx.gateway.url}/v1/results/${permitId}`);
    expect(status.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const onChain = await fx.as('deployer').DataAccess.getJobPermit(permitId);
    expect(onChain.resultCommitment).toBe(status.resultCommitment);
    expect(await fx.resultPostings(permitId)).toBe(1);

    const { counts, excludedSamples } = await fx.decryptResult(permitId, status.resultCommitment!);
    expect(excludedSamples).toEqual([SAMPLE_A]);
    const reference = referenceGenotypeCounts(fx.plain.genotypes, fx.plain.phenotypes, new Set([SAMPLE_A]));
    expect(sameGenotypeCounts(counts, reference)).toBe(true);
    // Not a vacuous match: the cohort has cases with ALT alleles.
    expect(counts.case[2].reduce((a, b) => a + b, 0) + counts.case[1].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Secrets never reach the logs.
    expect(fx.orchestratorLog.join('\n')).not.toContain(DEVNET_OPERATOR_KEYS.orchestrator.slice(2));
  });

  it('loses nothing when the orchestrator is killed -9 mid-job: the permit runs and posts exactly once', async () => {
    const permitId = await fx.issuePermit(grantId);
    await expect
      .poll(async () => (await fx.jobStatus(permitId))?.state ?? 'unseen', { timeout: 20_000, interval: 20 })
      .toBe('running');
    const killed = fx.orchestrator!.process;
    killed.kill('SIGKILL');
    await new Promise((resolve) => killed.once('exit', resolve));
    const before = fx.orchestratorLog.length;
    await fx.startOrchestrator();
    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(fx.orchestratorLog.slice(before).some((line) => line.includes('queued again'))).toBe(true);
    expect(status.state).toBe('posted');
    expect(await fx.resultPostings(permitId)).toBe(1);
    // Both withdrawn donors are out at this permit's block.
    const { excludedSamples } = await fx.decryptResult(permitId, status.resultCommitment!);
    expect(excludedSamples).toEqual([SAMPLE_A, SAMPLE_B]);
  });

  it('picks up a permit issued while it was down (persisted cursor)', async () => {
    await fx.orchestrator!.stop();
    const permitId = await fx.issuePermit(grantId);
    await fx.startOrchestrator();
    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(status.state).toBe('posted');
    expect(status.attempts).toBe(1);
    expect(await fx.resultPostings(permitId)).toBe(1);
  });

  it('retries while the gateway is down and finishes once it is back', async () => {
    const killed = fx.gateway.process;
    killed.kill('SIGKILL');
    await new Promise((resolve) => killed.once('exit', resolve));
    const permitId = await fx.issuePermit(grantId);
    await expect
      .poll(async () => (await fx.jobStatus(permitId))?.error ?? null, { timeout: 20_000, interval: 100 })
      .toMatch(/unreachable|ECONNREFUSED/i);
    expect((await fx.jobStatus(permitId))!.state).toBe('queued');
    fx.gateway = await fx.startGateway(fx.gatewayPort);
    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(status.state).toBe('posted');
    expect(status.error).toBeNull();
    expect(status.attempts).toBeGreaterThan(1);
    expect(await fx.resultPostings(permitId)).toBe(1);
  });

  it('loses nothing when the gateway is killed -9 mid-job: the job retries and posts exactly once', async () => {
    const permitId = await fx.issuePermit(grantId);
    await expect
      .poll(async () => (await fx.jobStatus(permitId))?.state ?? 'unseen', { timeout: 20_000, interval: 20 })
      .toBe('running');
    const killed = fx.gateway.process;
    killed.kill('SIGKILL');
    await new Promise((resolve) => killed.once('exit', resolve));
    fx.gateway = await fx.startGateway(fx.gatewayPort);
    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(status.state).toBe('posted');
    expect(await fx.resultPostings(permitId)).toBe(1);
    // The result is served by the restarted gateway and decrypts.
    const { excludedSamples } = await fx.decryptResult(permitId, status.resultCommitment!);
    expect(excludedSamples).toEqual([SAMPLE_A, SAMPLE_B]);
  });

  it('refuses a permit whose grant region it is not attested in: failed with the reason, nothing posted', async () => {
    const grant = await fx.grantCompute('lab2', '0x4445');
    const permitId = await fx.issuePermit(grant, 'lab2');
    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/^RESIDENCY: .*DE/);
    expect((await fx.as('deployer').DataAccess.getJobPermit(permitId)).resultCommitment).toBe(ZERO32);
    expect(await fx.resultPostings(permitId)).toBe(0);
  });

  it('holds a permit with parameters until they are supplied; a wrong set is refused and stores nothing', async () => {
    const params = { note: 'not an allele-counts parameter' };
    const permitId = await fx.issuePermit(grantId, 'lab', params);
    await fx.waitForState(permitId, ['waiting-params']);
    const put = (body: unknown) =>
      fetch(`${fx.orchestrator!.url}/v1/jobs/${permitId}/params`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const wrong = await put({ note: 'another' });
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({ error: { code: 'PARAMS_MISMATCH' } });
    expect(await fx.jobStatus(permitId)).toMatchObject({ state: 'waiting-params', error: null });
    expect((await put(params)).status).toBe(200);
    // These parameters do not fit the algorithm: a clear failure in the status API, never a silent drop.
    const status = await fx.waitForState(permitId, ['posted', 'failed']);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/^BAD_PARAMS/);
    expect(await fx.resultPostings(permitId)).toBe(0);
  });
});
