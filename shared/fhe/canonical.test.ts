import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalJson } from './canonical';

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    const a = { b: [3, { y: 'x', x: null }], a: true, c: undefined };
    const b = { a: true, b: [3, { x: null, y: 'x' }] };
    expect(canonicalJson(a)).toBe('{"a":true,"b":[3,{"x":null,"y":"x"}]}');
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  it('keeps array order and escapes strings as JSON does', () => {
    expect(canonicalJson(['b', 'a', 'é"\n'])).toBe('["b","a","é\\"\\n"]');
  });

  it('refuses values with more than one spelling or no JSON form', () => {
    expect(() => canonicalJson(1.5)).toThrow(/safe integers/);
    expect(() => canonicalJson(2 ** 60)).toThrow(/safe integers/);
    expect(() => canonicalJson(1n)).toThrow(/bigint/);
    expect(() => canonicalJson(new Map())).toThrow(/plain objects/);
    expect(canonicalJson(-0)).toBe('0');
  });

  it('digests the canonical bytes with SHA-256', () => {
    const expected = `0x${createHash('sha256').update('{"a":1,"b":"2"}').digest('hex')}`;
    expect(canonicalDigest({ b: '2', a: 1 })).toBe(expected);
  });
});
