/**
 * Orchestrator benchmark: one permit from JobPermitIssued to JobResult on a real chain with the real
 * gateway and orchestrator processes, over a synthetic cohort, with the time split by step (from the
 * orchestrator's own structured log) and the orchestrator's peak RSS.
 *
 *   node --import tsx services/orchestrator/bench-orchestrator.ts [--samples 200] [--snps 8192] [--runs 2]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateCohort } from '../../scripts/gen-cohort';
import { ComputeFixture } from './testing/fixture';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    snps: { type: 'string', default: '8192' },
    runs: { type: 'string', default: '2' },
  },
});
const samples = Number(values.samples);
const snps = Number(values.snps);
const runs = Number(values.runs);

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

function logTimes(lines: readonly string[], permitId: bigint): Record<string, number> {
  const times: Record<string, number> = {};
  for (const line of lines) {
    try {
      const record = JSON.parse(line) as { msg?: string; permitId?: string; time?: string };
      if (record.permitId === permitId.toString() && record.msg && record.time) {
        times[record.msg] = Date.parse(record.time);
      }
    } catch {
      // not a structured line
    }
  }
  return times;
}

const cohortDir = await mkdtemp(path.join(os.tmpdir(), 'cos-orch-bench-'));
const { vcfPath, csvPath } = await generateCohort(cohortDir, { samples, snps, seed: 11, missingPhenotypeRate: 0 });
const fx = await ComputeFixture.start({ vcfPath, csvPath, donorSamples: [1, 2] });
try {
  const grant = await fx.grantCompute('lab', '0x4348');
  await fx.withdraw('donorA', 1);
  const orchestrator = await fx.startOrchestrator();
  const ciphertexts =
    fx.manifest.objects.filter((o) => o.kind === 'genotypes').length * fx.manifest.genotypeLayout.blockCount;
  const inputBytes = fx.manifest.objects.filter((o) => o.kind === 'genotypes').reduce((sum, o) => sum + o.size, 0);
  console.log(
    `cohort ${samples} samples x ${snps} SNPs: ${ciphertexts} genotype ciphertexts, ` +
      `${(inputBytes / 2 ** 20).toFixed(1)} MiB; owner encrypt ${fx.setupSeconds.encrypt.toFixed(1)} s, ` +
      `upload ${fx.setupSeconds.upload.toFixed(1)} s`,
  );
  for (let run = 1; run <= runs; run += 1) {
    const started = Date.now();
    const permitId = await fx.issuePermit(grant);
    const status = await fx.waitForState(permitId, ['posted', 'failed'], 600_000);
    const total = (Date.now() - started) / 1000;
    if (status.state !== 'posted') throw new Error(`permit ${permitId} failed: ${status.error}`);
    const t = logTimes(fx.orchestratorLog, permitId);
    const step = (from: string, to: string) => ((t[to]! - t[from]!) / 1000).toFixed(2);
    console.log(
      `run ${run}: permit -> JobResult ${total.toFixed(2)} s ` +
        `(pick-up ${((t['job started']! - started) / 1000).toFixed(2)} s, checks+manifest+consent ${step('job started', 'inputs checked')} s, ` +
        `fetch+FHE aggregate ${step('inputs checked', 'result stored')} s, post ${step('result stored', 'result posted')} s); ` +
        `${(ciphertexts / Number(step('inputs checked', 'result stored'))).toFixed(0)} ciphertexts/s`,
    );
  }
  console.log(`orchestrator peak RSS ${peakRssMiB(orchestrator.process.pid!).toFixed(0)} MiB`);
} finally {
  await fx.stop();
  await rm(cohortDir, { recursive: true, force: true });
}
