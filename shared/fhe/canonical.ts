import { sha256, toUtf8Bytes } from 'ethers';

/**
 * Canonical JSON (the subset of RFC 8785 the FHE formats use): object keys sorted by UTF-16 code
 * units, no whitespace, `undefined` members dropped, and only safe integers as numbers, so that two
 * parties who agree on a value agree on its bytes and digest whatever order they built it in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // Floats have several spellings across languages; the formats carry them as strings.
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON holds safe integers only, not ${value}`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        throw new TypeError('canonical JSON holds plain objects and arrays only');
      }
      const members = Object.entries(value as Record<string, unknown>)
        .filter(([, member]) => member !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

/** `0x` + SHA-256 of the canonical JSON of `value`: a bytes32 for on-chain commitments. */
export function canonicalDigest(value: unknown): string {
  return sha256(toUtf8Bytes(canonicalJson(value)));
}
