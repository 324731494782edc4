import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isFheError } from './errors';
import { genotypeLayout, planGenotypeLanes, planNumericLayout } from './layout';
import { manifestDigest, manifestJson, parseManifest, type FheManifest } from './manifest';
import { DEFAULT_PARAMETER_SUITE, fheParamsHash, parameterSetHash } from './parameters';

const digest = (n: number) => n.toString(16).padStart(64, '0');

function validManifest(): FheManifest {
  return {
    format: 'cos.fhe.manifest.v1',
    fheParamsHash: fheParamsHash(DEFAULT_PARAMETER_SUITE),
    parameterSets: {
      genotypes: { id: 'bfv-n4096-t60', hash: parameterSetHash('bfv-n4096-t60') },
      numeric: { id: 'ckks-n8192-s40', hash: parameterSetHash('ckks-n8192-s40') },
    },
    sampleCount: 3,
    snpCount: 10,
    donorConsentIds: ['11', '12', '115792089237316195423570985008687907853269984665640564039457584007913129639935'],
    genotypeLayout: genotypeLayout(planGenotypeLanes('bfv-n4096-t60', 3), 10),
    numericLayout: planNumericLayout('ckks-n8192-s40', 3, [
      { name: 'case', role: 'phenotype' },
      { name: 'age', role: 'covariate' },
    ]),
    objects: [
      { kind: 'variants', digest: digest(1), size: 400 },
      { kind: 'genotypes', sampleIndex: 0, digest: digest(2), size: 49_000 },
      { kind: 'genotypes', sampleIndex: 1, digest: digest(3), size: 49_000 },
      { kind: 'genotypes', sampleIndex: 2, digest: digest(4), size: 49_000 },
      { kind: 'numeric', column: 'case', digest: digest(5), size: 480_000 },
      { kind: 'numeric', column: 'age', digest: digest(6), size: 480_000 },
    ],
  };
}

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, member]) => [key, reverseKeys(member)]),
  );
}

function rejection(mutate: (manifest: FheManifest) => void): string {
  const manifest = structuredClone(validManifest());
  mutate(manifest);
  try {
    parseManifest(manifest);
  } catch (error) {
    expect(isFheError(error, 'BAD_MANIFEST')).toBe(true);
    return (error as Error).message;
  }
  return 'accepted';
}

describe('ciphertext manifest', () => {
  it('accepts a consistent manifest', () => {
    expect(parseManifest(validManifest())).toEqual(validManifest());
  });

  it('has a canonical digest: key order does not matter, content does', () => {
    const manifest = validManifest();
    const reordered = reverseKeys(manifest) as FheManifest;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(manifest));
    expect(manifestDigest(reordered)).toBe(manifestDigest(manifest));
    expect(manifestDigest(parseManifest(reordered))).toBe(manifestDigest(manifest));

    const otherObject = structuredClone(manifest);
    otherObject.objects[2]!.digest = digest(9);
    const otherOrder = structuredClone(manifest);
    otherOrder.donorConsentIds.reverse();
    expect(new Set([manifestDigest(otherObject), manifestDigest(otherOrder), manifestDigest(manifest)]).size).toBe(3);
  });

  it('writes canonical JSON, so the file hash is the commitment', () => {
    const text = manifestJson(validManifest());
    expect(`0x${createHash('sha256').update(text).digest('hex')}`).toBe(manifestDigest(validManifest()));
    expect(text).not.toMatch(/\s/);
  });

  it('refuses manifests that do not hang together', () => {
    expect(rejection((m) => (m.fheParamsHash = `0x${digest(7)}`))).toMatch(/fheParamsHash/);
    expect(rejection((m) => (m.parameterSets.genotypes.hash = parameterSetHash('ckks-n8192-s40')))).toMatch(
      /does not match/,
    );
    expect(rejection((m) => m.donorConsentIds.pop())).toMatch(/one id per sample/);
    expect(rejection((m) => (m.donorConsentIds[1] = '11'))).toMatch(/repeat/);
    expect(rejection((m) => (m.donorConsentIds[0] = '0x0b'))).toMatch(/decimal/);
    expect(rejection((m) => (m.donorConsentIds[0] = `1${'0'.repeat(78)}`))).toMatch(/uint256|decimal/);
    expect(rejection((m) => (m.genotypeLayout.radix = 1001))).toMatch(/genotypeLayout/);
    expect(rejection((m) => (m.snpCount = 5000))).toMatch(/genotypeLayout/);
    expect(rejection((m) => (m.numericLayout = null))).toMatch(/disagree/);
    expect(rejection((m) => m.objects.splice(3, 1))).toMatch(/exactly one genotypes object/);
    expect(rejection((m) => m.objects.splice(0, 1))).toMatch(/one variants object/);
    expect(rejection((m) => (m.objects[3] = { ...m.objects[1]!, digest: digest(8) }))).toMatch(/repeated/);
    expect(rejection((m) => (m.objects[5]!.digest = digest(5)))).toMatch(/listed twice/);
    expect(rejection((m) => (m.objects[4] = { kind: 'numeric', column: 'bmi', digest: digest(5), size: 1 }))).toMatch(
      /column bmi/,
    );
    expect(rejection((m) => (m.objects[1]!.digest = 'AB'.repeat(32)))).toMatch(/lowercase hex/);
    expect(rejection((m) => Object.assign(m, { extra: true }))).toMatch(/manifest/);
  });
});
