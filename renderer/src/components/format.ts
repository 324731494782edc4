/** Display helpers shared by the workspaces. */

export function shortHex(value: string, head = 6, tail = 4): string {
  return value.length <= head + tail + 2 ? value : `${value.slice(0, head + 2)}…${value.slice(-tail)}`;
}

const COS_DECIMALS = 18n;

/** A COS amount in base units (decimal string) as "12.5 COS". */
export function formatCos(baseUnits: string | bigint, digits = 4): string {
  const value = typeof baseUnits === 'bigint' ? baseUnits : BigInt(baseUnits);
  const scale = 10n ** COS_DECIMALS;
  const whole = value / scale;
  const fraction = (value % scale).toString().padStart(Number(COS_DECIMALS), '0').slice(0, digits).replace(/0+$/, '');
  return `${whole.toLocaleString('en')}${fraction ? `.${fraction}` : ''} COS`;
}

/** COS as typed by a person ("1.5") to base units. */
export function parseCos(text: string): bigint {
  const match = /^\s*(\d+)(?:\.(\d{0,18}))?\s*$/.exec(text);
  if (!match) throw new Error('Enter an amount like 1.5');
  return BigInt(match[1]!) * 10n ** COS_DECIMALS + BigInt((match[2] ?? '').padEnd(18, '0'));
}

/** ε in micro-units (on chain) as a number. */
export function epsilonValue(micro: number): number {
  return micro / 1_000_000;
}

export function epsilonMicro(value: number): number {
  return Math.round(value * 1_000_000);
}

/** δ in 1e-18 units (decimal string) as a number. */
export function deltaValue(atto: string): number {
  return Number(atto) / 1e18;
}

export function deltaAtto(value: number): string {
  if (!(value >= 0 && value <= 1)) throw new Error('δ must be between 0 and 1');
  return BigInt(Math.round(value * 1e18)).toString();
}

export function formatTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString();
}

export const OP_BITS = [
  { bit: 1, label: 'READ' },
  { bit: 2, label: 'LIST' },
  { bit: 4, label: 'EXPORT' },
  { bit: 8, label: 'COMPUTE' },
] as const;

export function opLabels(mask: number): string {
  return OP_BITS.filter((op) => (mask & op.bit) !== 0)
    .map((op) => op.label)
    .join(' · ');
}
