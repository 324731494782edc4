/**
 * Data Use Ontology (DUO) codes as the uint64 bitmask the contracts carry (`consentCodes`,
 * `purposeCodes`); bit positions as in docs/CONTRACTS.md. Public vocabulary, no personal data.
 */
export interface DuoCode {
  bit: number;
  code: string;
  id: string;
  label: string;
  kind: 'permission' | 'modifier';
}

export const DUO_CODES: readonly DuoCode[] = [
  { bit: 0, code: 'NRES', id: 'DUO:0000004', label: 'No restriction', kind: 'permission' },
  { bit: 1, code: 'GRU', id: 'DUO:0000042', label: 'General research use', kind: 'permission' },
  { bit: 2, code: 'HMB', id: 'DUO:0000006', label: 'Health or medical or biomedical research', kind: 'permission' },
  { bit: 3, code: 'DS', id: 'DUO:0000007', label: 'Disease specific research', kind: 'permission' },
  { bit: 4, code: 'POA', id: 'DUO:0000011', label: 'Population origins or ancestry research only', kind: 'permission' },
  { bit: 5, code: 'RS', id: 'DUO:0000012', label: 'Research specific restrictions', kind: 'modifier' },
  { bit: 6, code: 'NMDS', id: 'DUO:0000015', label: 'No general methods research', kind: 'modifier' },
  { bit: 7, code: 'GSO', id: 'DUO:0000016', label: 'Genetic studies only', kind: 'modifier' },
  { bit: 8, code: 'NPUNCU', id: 'DUO:0000018', label: 'Not for profit, non commercial use only', kind: 'modifier' },
  { bit: 9, code: 'PUB', id: 'DUO:0000019', label: 'Publication required', kind: 'modifier' },
  { bit: 10, code: 'COL', id: 'DUO:0000020', label: 'Collaboration required', kind: 'modifier' },
  { bit: 11, code: 'IRB', id: 'DUO:0000021', label: 'Ethics approval required', kind: 'modifier' },
  { bit: 12, code: 'GS', id: 'DUO:0000022', label: 'Geographical restriction', kind: 'modifier' },
  { bit: 13, code: 'MOR', id: 'DUO:0000024', label: 'Publication moratorium', kind: 'modifier' },
  { bit: 14, code: 'TS', id: 'DUO:0000025', label: 'Time limit on use', kind: 'modifier' },
  { bit: 15, code: 'US', id: 'DUO:0000026', label: 'User specific restriction', kind: 'modifier' },
  { bit: 16, code: 'PS', id: 'DUO:0000027', label: 'Project specific restriction', kind: 'modifier' },
  { bit: 17, code: 'IS', id: 'DUO:0000028', label: 'Institution specific restriction', kind: 'modifier' },
  { bit: 18, code: 'RTN', id: 'DUO:0000029', label: 'Return to database or resource', kind: 'modifier' },
  { bit: 19, code: 'CC', id: 'DUO:0000043', label: 'Clinical care use', kind: 'permission' },
  {
    bit: 20,
    code: 'NPOA',
    id: 'DUO:0000044',
    label: 'Population origins or ancestry research prohibited',
    kind: 'modifier',
  },
  { bit: 21, code: 'NPU', id: 'DUO:0000045', label: 'Not-for-profit use only', kind: 'modifier' },
  { bit: 22, code: 'NCU', id: 'DUO:0000046', label: 'Non-commercial use only', kind: 'modifier' },
];

/** The codes set in a bitmask (decimal string or bigint). */
export function duoCodesOf(mask: string | bigint): DuoCode[] {
  const value = typeof mask === 'bigint' ? mask : BigInt(mask);
  return DUO_CODES.filter((code) => (value >> BigInt(code.bit)) & 1n);
}

/** The bitmask (decimal string) of a list of code abbreviations (e.g. ['GRU', 'HMB']). */
export function duoMask(codes: readonly string[]): string {
  let mask = 0n;
  for (const abbreviation of codes) {
    const code = DUO_CODES.find((c) => c.code === abbreviation);
    if (!code) throw new Error(`Unknown DUO code ${abbreviation}`);
    mask |= 1n << BigInt(code.bit);
  }
  return mask.toString();
}
