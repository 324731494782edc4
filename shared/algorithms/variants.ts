import { AlgorithmError } from './errors';

/** One row of a dataset's plaintext variant table (the manifest's `variants` object). */
export interface VariantInfo {
  index: number;
  chrom: string;
  pos: number;
  id: string;
  ref: string;
  alt: string;
}

const HEADER = 'index\tchrom\tpos\tid\tref\talt';
const FIELD = /^[^\t\r\n]{1,1000}$/;

/** Parses the variant table TSV (`index chrom pos id ref alt`, rows in SNP order) with every field checked. */
export function parseVariantTable(bytes: Uint8Array | string): VariantInfo[] {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new AlgorithmError('BAD_INPUT', 'The variant table is not UTF-8 text', { cause: error });
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== HEADER) throw new AlgorithmError('BAD_INPUT', 'The variant table has an unexpected header');
  return lines.slice(1).map((line, i) => {
    const fields = line.split('\t');
    const [index, chrom, pos, id, ref, alt] = fields;
    if (
      fields.length !== 6 ||
      index !== String(i) ||
      !/^[1-9][0-9]{0,14}$|^0$/.test(pos ?? '') ||
      ![chrom, id, ref, alt].every((field) => field !== undefined && FIELD.test(field))
    ) {
      throw new AlgorithmError('BAD_INPUT', `The variant table has a malformed row ${i + 1}`);
    }
    return { index: i, chrom: chrom!, pos: Number(pos), id: id!, ref: ref!, alt: alt! };
  });
}
