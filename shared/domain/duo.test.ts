import { describe, expect, it } from 'vitest';
import { DUO_CODES, duoCodesOf, duoMask } from './duo';

describe('DUO bitmask', () => {
  it('has one code per bit, bits 0..22 as in docs/CONTRACTS.md', () => {
    expect(DUO_CODES.map((code) => code.bit)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(new Set(DUO_CODES.map((code) => code.id)).size).toBe(23);
    expect(DUO_CODES.find((code) => code.code === 'HMB')).toMatchObject({ bit: 2, id: 'DUO:0000006' });
  });

  it('round-trips codes and masks', () => {
    expect(duoMask(['GRU', 'HMB'])).toBe('6');
    expect(duoCodesOf('6').map((code) => code.code)).toEqual(['GRU', 'HMB']);
    expect(duoCodesOf(1n << 22n).map((code) => code.code)).toEqual(['NCU']);
    expect(() => duoMask(['NOPE'])).toThrow(/Unknown DUO code/);
  });
});
