import { z } from 'zod';
import { canonicalDigest, canonicalJson } from './canonical';
import { FheError } from './errors';
import {
  genotypeLayout,
  numericPlanes,
  phenotypeGroups,
  planGenotypeLanes,
  planNumericLayout,
  type GenotypeLayout,
  type NumericLayout,
} from './layout';
import { fheParamsHash, parameterSetHash, parameterSetIds } from './parameters';

export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');
const bytes32Schema = z.string().regex(/^0x[0-9a-f]{64}$/, 'a lowercase 0x-prefixed bytes32');
const count = z.number().int().positive();
const index = z.number().int().nonnegative();
const UINT256_MAX = (1n << 256n) - 1n;

/** A donor's consent id is its identity token id (DatasetRegistry donorSbtId), in decimal. */
export const consentIdSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, 'a decimal donor token id')
  .refine((value) => BigInt(value) <= UINT256_MAX, 'a uint256');

const genotypeCounterSchema = z.strictObject({
  group: z.enum(phenotypeGroups),
  altAlleles: z.union([z.literal(0), z.literal(1), z.literal(2)]),
});

export const genotypeLayoutSchema = z.strictObject({
  kind: z.literal('cos.layout.genotype-counts.v1'),
  parameterSetId: z.enum(parameterSetIds),
  sampleCount: count,
  snpCount: count,
  slotsPerCiphertext: count,
  radix: count,
  lanes: z.array(z.array(genotypeCounterSchema).min(1)).min(1),
  snpsPerCiphertext: count,
  blockCount: count,
});

export const numericLayoutSchema = z.strictObject({
  kind: z.literal('cos.layout.numeric-columns.v1'),
  parameterSetId: z.enum(parameterSetIds),
  sampleCount: count,
  slotsPerCiphertext: count,
  ciphertextsPerPlane: count,
  scaleBits: count,
  planes: z.array(z.enum(numericPlanes)),
  columns: z.array(z.strictObject({ name: z.string().min(1).max(200), role: z.enum(['phenotype', 'covariate']) })),
});

const objectBase = { digest: sha256HexSchema, size: index };
export const manifestObjectSchema = z.discriminatedUnion('kind', [
  /** One sample's genotype ciphertexts, one frame per block. */
  z.strictObject({ kind: z.literal('genotypes'), sampleIndex: index, ...objectBase }),
  /** One numeric column's ciphertexts, plane by plane. */
  z.strictObject({ kind: z.literal('numeric'), column: z.string().min(1), ...objectBase }),
  /** The plaintext variant table (index, CHROM, POS, ID, REF, ALT): panel metadata, no genotypes. */
  z.strictObject({ kind: z.literal('variants'), ...objectBase }),
]);
export type ManifestObject = z.infer<typeof manifestObjectSchema>;

const parameterRefSchema = z.strictObject({ id: z.enum(parameterSetIds), hash: bytes32Schema });

const manifestShape = z.strictObject({
  format: z.literal('cos.fhe.manifest.v1'),
  fheParamsHash: bytes32Schema,
  parameterSets: z.strictObject({ genotypes: parameterRefSchema, numeric: parameterRefSchema.nullable() }),
  sampleCount: count,
  snpCount: count,
  /** donorConsentIds[i] is the donor of sample i; the orchestrator skips withdrawn donors' objects. */
  donorConsentIds: z.array(consentIdSchema),
  genotypeLayout: genotypeLayoutSchema,
  numericLayout: numericLayoutSchema.nullable(),
  objects: z.array(manifestObjectSchema),
});

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The ciphertext manifest: which parameters, which layout, which objects (content-addressed), in
 * which sample order. Its canonical digest is the dataset's on-chain manifest commitment.
 */
export const manifestSchema = manifestShape.superRefine((manifest, ctx) => {
  const issue = (message: string) => ctx.addIssue({ code: 'custom', message });
  const { genotypes, numeric } = manifest.parameterSets;
  if (genotypes.hash !== parameterSetHash(genotypes.id)) issue('parameterSets.genotypes.hash does not match its set');
  if (numeric !== null && numeric.hash !== parameterSetHash(numeric.id)) {
    issue('parameterSets.numeric.hash does not match its set');
  }
  if (manifest.fheParamsHash !== fheParamsHash({ genotypes: genotypes.id, numeric: numeric?.id ?? null })) {
    issue('fheParamsHash does not match the parameter sets');
  }
  if (manifest.donorConsentIds.length !== manifest.sampleCount) issue('donorConsentIds must list one id per sample');
  if (new Set(manifest.donorConsentIds).size !== manifest.donorConsentIds.length) issue('donorConsentIds repeat');

  const layout = manifest.genotypeLayout;
  if (layout.parameterSetId !== genotypes.id || layout.sampleCount !== manifest.sampleCount) {
    issue('genotypeLayout does not match the manifest');
  } else {
    try {
      const expected = genotypeLayout(planGenotypeLanes(layout.parameterSetId, layout.sampleCount), manifest.snpCount);
      if (!sameJson(expected, layout)) issue('genotypeLayout is not the layout these parameters give');
    } catch (error) {
      issue(`genotypeLayout: ${(error as Error).message}`);
    }
  }
  const numericLayout = manifest.numericLayout;
  if ((numericLayout === null) !== (numeric === null)) issue('numericLayout and parameterSets.numeric disagree');
  if (numericLayout !== null && numeric !== null) {
    try {
      const expected = planNumericLayout(numeric.id, manifest.sampleCount, numericLayout.columns);
      if (!sameJson(expected, numericLayout)) issue('numericLayout is not the layout these parameters give');
    } catch (error) {
      issue(`numericLayout: ${(error as Error).message}`);
    }
  }

  const digests = new Set<string>();
  const samples = new Set<number>();
  const columns = new Set<string>();
  let variants = 0;
  for (const object of manifest.objects) {
    if (digests.has(object.digest)) issue(`object ${object.digest} is listed twice`);
    digests.add(object.digest);
    if (object.kind === 'genotypes') {
      if (object.sampleIndex >= manifest.sampleCount || samples.has(object.sampleIndex)) {
        issue(`genotypes object for sample ${object.sampleIndex} is out of range or repeated`);
      }
      samples.add(object.sampleIndex);
    } else if (object.kind === 'numeric') {
      if (!numericLayout?.columns.some((column) => column.name === object.column) || columns.has(object.column)) {
        issue(`numeric object for column ${object.column} is unknown or repeated`);
      }
      columns.add(object.column);
    } else {
      variants += 1;
    }
  }
  if (samples.size !== manifest.sampleCount) issue('every sample needs exactly one genotypes object');
  if (columns.size !== (numericLayout?.columns.length ?? 0)) issue('every numeric column needs exactly one object');
  if (variants !== 1) issue('a manifest lists exactly one variants object');
});

export type FheManifest = z.infer<typeof manifestShape> & {
  genotypeLayout: GenotypeLayout;
  numericLayout: NumericLayout | null;
};

/** Validates `value` as a manifest; a typed BAD_MANIFEST error lists what is wrong. */
export function parseManifest(value: unknown): FheManifest {
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((problem) => `${problem.path.join('.') || 'manifest'}: ${problem.message}`);
    throw new FheError('BAD_MANIFEST', `Invalid ciphertext manifest: ${problems.join('; ')}`);
  }
  return parsed.data as FheManifest;
}

/** The manifest file's bytes: canonical JSON, so SHA-256 of the file is the manifest digest. */
export function manifestJson(manifest: FheManifest): string {
  return canonicalJson(manifest);
}

/** The on-chain manifest commitment: `0x` + SHA-256 of the manifest's canonical JSON. */
export function manifestDigest(manifest: FheManifest): string {
  return canonicalDigest(manifest);
}
