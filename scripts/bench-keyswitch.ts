/**
 * Key-switching benchmark (issue 7): per result ciphertext, the owner's share generation and the lab's
 * combination + decryption, for a GWAS result (BFV bfv-n4096-t60, summed over --samples donors) and a
 * mean/variance result (CKKS ckks-n8192-s40); plus the NTT against SEAL's and the noise margin of the
 * summed BFV result (what flooding would have to hide).
 *
 *   node --import tsx scripts/bench-keyswitch.ts [--samples 1000] [--snps 4096] [--repeat 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseGenotypeCountsResult, parseNumericSumsResult } from '../shared/fhe/aggregate';
import { combineShare, createKeySwitchShare, type ShareMode, type ShareReport } from '../shared/fhe/keyswitch/share';
import {
  decryptSlots,
  plainCiphertext,
  plainPublicKey,
  plainSecretKey,
  publicKeyFromBundle,
  secretKeyFromBundle,
} from '../shared/fhe/keyswitch/seal-io';
import { nttTables, residues } from '../shared/fhe/keyswitch/rns';
import { parseCiphertextBytes } from '../shared/fhe/keyswitch/serialized';
import { makeKeySwitchFixture } from '../shared/fhe/keyswitch/testing';
import { getParameterSet, type ParameterSetId } from '../shared/fhe/parameters';
import { createSealContext, loadSeal } from '../shared/fhe/seal';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '1000' },
    snps: { type: 'string', default: '4096' },
    repeat: { type: 'string', default: '10' },
  },
});
const samples = Number(values.samples);
const snps = Number(values.snps);
const repeat = Number(values.repeat);

function stats(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(1)} ms (min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)})`;
}

const seal = await loadSeal();
const work = await mkdtemp(path.join(os.tmpdir(), 'cos-bench-keyswitch-'));
try {
  const t0 = performance.now();
  const fx = await makeKeySwitchFixture(seal, work, { samples, snps, seed: 3 });
  console.log(
    `fixture: ${samples} samples × ${snps} SNPs encrypted and aggregated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const cases: { id: ParameterSetId; label: string; ciphertext: Uint8Array; modes: ShareMode[] }[] = [
    {
      id: 'bfv-n4096-t60',
      label: `GWAS block (sum of ${samples})`,
      ciphertext: parseGenotypeCountsResult(fx.gwasResult, fx.cohort.manifest.genotypeLayout).blocks[0]!,
      modes: ['cancel', 'flood'],
    },
    {
      id: 'ckks-n8192-s40',
      label: 'mean/variance sum',
      ciphertext: parseNumericSumsResult(fx.numericResult, fx.cohort.manifest.numericLayout!).ciphertexts[0]!,
      modes: ['flood'],
    },
  ];
  for (const { id, label, ciphertext, modes } of cases) {
    const set = getParameterSet(id);
    const context = createSealContext(seal, set);
    const ownerSecret = plainSecretKey(seal, context, secretKeyFromBundle(fx.cohort.secretKeys, id).secretKey);
    const labSecret = secretKeyFromBundle(fx.lab.secretKeys, id).secretKey;
    const labPublic = plainPublicKey(seal, context, publicKeyFromBundle(fx.lab.publicKeys, id));
    const plain = plainCiphertext(seal, context, ciphertext);
    const image = parseCiphertextBytes(
      plain,
      set.coeffModulus
        .slice(0, Number(new DataView(plain.buffer, plain.byteOffset).getBigUint64(65, true)))
        .map(BigInt),
      'ct',
    );

    // NTT: one forward + inverse per prime, TypeScript BigInt vs what SEAL stores.
    const nttTimes: number[] = [];
    for (let r = 0; r < repeat; r += 1) {
      const values = residues(image.data, 1, 0, image.primeCount, image.n);
      const tables = nttTables(BigInt(set.coeffModulus[0]!), image.n);
      const start = performance.now();
      tables.forward(values);
      tables.inverse(values);
      nttTimes.push((performance.now() - start) / 2);
    }
    console.log(`${id}: NTT (one prime, N=${image.n}, BigInt): ${stats(nttTimes)}`);

    for (const mode of modes) {
      const shareTimes: number[] = [];
      const labTimes: number[] = [];
      let report: ShareReport | null = null;
      let share: Uint8Array | null = null;
      for (let r = 0; r < repeat; r += 1) {
        const start = performance.now();
        const made = createKeySwitchShare(
          {
            parameterSetId: id,
            ciphertext: plainCiphertext(seal, context, ciphertext),
            ownerSecretKey: ownerSecret,
            labPublicKey: labPublic,
          },
          { mode, minStatisticalSecurity: -Infinity, acceptComputationalHiding: true },
        );
        shareTimes.push(performance.now() - start);
        report = made.report;
        share = made.share;
        const labStart = performance.now();
        decryptSlots(
          seal,
          context,
          id,
          labSecret,
          combineShare(id, plainCiphertext(seal, context, ciphertext), made.share),
        );
        labTimes.push(performance.now() - labStart);
      }
      console.log(
        `${id} ${label}, mode ${mode}: share ${stats(shareTimes)}; lab combine + decrypt ${stats(labTimes)}; share ${(share!.length / 1024).toFixed(0)} KiB`,
      );
      console.log(
        `  margin: ${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`,
      );
    }
    context.delete();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
