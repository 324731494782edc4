import { readPhenotypeCsv } from '../csv';
import { readVcf } from '../vcf';
import type { PhenotypeClass } from '../../../../shared/fhe/layout';

/** A cohort read in plaintext, in VCF sample order: what the plaintext references count from. */
export interface PlainCohort {
  samples: string[];
  genotypes: Uint8Array[];
  phenotypes: PhenotypeClass[];
  covariateColumns: string[];
  /** covariates[c][sample], NaN where missing. */
  covariates: Float64Array[];
  consentIds: string[];
}

export async function readPlainCohort(
  vcfPath: string,
  csvPath: string,
  phenotypeColumn = 'case',
): Promise<PlainCohort> {
  let samples: string[] = [];
  const bySnp: Uint8Array[] = [];
  for await (const variant of readVcf(vcfPath, { onHeader: (header) => (samples = header.samples) }))
    bySnp.push(variant.codes);
  const table = await readPhenotypeCsv(csvPath, { phenotypeColumn });
  const rows = samples.map((sample) => table.rows.get(sample)!);
  return {
    samples,
    genotypes: samples.map((_, sample) => Uint8Array.from(bySnp, (codes) => codes[sample]!)),
    phenotypes: rows.map((row) => row.phenotype),
    covariateColumns: table.covariateColumns,
    covariates: table.covariateColumns.map((_, c) => Float64Array.from(rows, (row) => row.covariates[c]!)),
    consentIds: rows.map((row) => row.consentId ?? ''),
  };
}
