import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCohort } from '../../../scripts/gen-cohort';

const tinyDir = fileURLToPath(new URL('../../../resources/cohorts/tiny/', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cos-gen-cohort-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('synthetic cohort generator', () => {
  it('reproduces the committed tiny cohort byte for byte from its seed', async () => {
    const files = await generateCohort(path.join(dir, 'tiny'), {
      samples: 40,
      snps: 64,
      seed: 13,
      monomorphicRate: 0.1,
    });
    expect(await readFile(files.vcfPath, 'utf8')).toBe(await readFile(path.join(tinyDir, 'cohort.vcf'), 'utf8'));
    expect(await readFile(files.csvPath, 'utf8')).toBe(await readFile(path.join(tinyDir, 'phenotypes.csv'), 'utf8'));
  });

  it('is deterministic per seed, gzips on request, and includes missing calls, phased calls and monomorphic sites', async () => {
    const a = await generateCohort(path.join(dir, 'a'), { samples: 50, snps: 300, seed: 3, gzip: true });
    const b = await generateCohort(path.join(dir, 'b'), { samples: 50, snps: 300, seed: 3, gzip: true });
    const c = await generateCohort(path.join(dir, 'c'), { samples: 50, snps: 300, seed: 4 });
    const vcf = gunzipSync(await readFile(a.vcfPath)).toString();
    expect(gunzipSync(await readFile(b.vcfPath)).toString()).toBe(vcf);
    expect(await readFile(c.vcfPath, 'utf8')).not.toBe(vcf);
    const records = vcf.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(records).toHaveLength(300);
    expect(records.every((line) => line.split('\t').length === 59)).toBe(true);
    expect(vcf).toContain('./.');
    expect(vcf).toMatch(/\t(0\|1|1\|0)/);
    const calls = records.map(
      (line) =>
        new Set(
          line
            .split('\t')
            .slice(9)
            .filter((gt) => !gt.includes('.'))
            .map((gt) => gt.replace('|', '/')),
        ),
    );
    expect(calls.some((set) => set.size === 1)).toBe(true);
    const csv = (await readFile(a.csvPath, 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('sample_id,consent_id,case,age,bmi');
    expect(csv).toHaveLength(51);
  });
});
