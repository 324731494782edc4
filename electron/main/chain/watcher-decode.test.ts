/**
 * The watcher's hot path decodes logs with shared/contracts/runtime.ts `decodeLog` (a topic table built once per
 * interface and a word-by-word reader for events with only static inputs). It must give exactly what ethers'
 * `Interface.parseLog` gives, for every event of every COS contract, on well-formed logs and on every kind of
 * malformed or non-canonical one; these tests compare the two on the same logs.
 */
import { type EventFragment, Interface, type ParamType, getAddress, hexlify, toBeHex, zeroPadValue } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  COS_ABIS,
  COS_CONTRACT_NAMES,
  dataAccessInterface,
  decodeLog,
  type LogLike,
  toPlain,
} from '../../../shared/contracts';

// A seeded generator, so a failure names a reproducible case.
let seed = 0x2545f491;
function nextByte(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed & 0xff;
}
const randomBytes = (n: number) => Uint8Array.from({ length: n }, nextByte);
const randomBig = (bits: number) => BigInt(hexlify(randomBytes(Math.ceil(bits / 8)))) & ((1n << BigInt(bits)) - 1n);

/** A random value of an ABI type, extremes included now and then. */
function randomValue(param: ParamType): unknown {
  if (param.isTuple()) return param.components.map(randomValue);
  if (param.isArray()) {
    const length = param.arrayLength >= 0 ? param.arrayLength : nextByte() % 4;
    return Array.from({ length }, () => randomValue(param.arrayChildren));
  }
  const pick = nextByte() % 8;
  const number = /^(u?)int(\d+)$/.exec(param.type);
  if (number) {
    const bits = Number(number[2]);
    if (number[1]) return pick === 0 ? 0n : pick === 1 ? (1n << BigInt(bits)) - 1n : randomBig(bits);
    const half = 1n << BigInt(bits - 1);
    return pick === 0 ? -half : pick === 1 ? half - 1n : randomBig(bits) - half;
  }
  if (param.type === 'address') return getAddress(hexlify(randomBytes(20)));
  if (param.type === 'bool') return pick % 2 === 0;
  if (param.type === 'string') return `résumé ${'x'.repeat(pick * 9)} ✓`;
  if (param.type === 'bytes') return hexlify(randomBytes(pick * 11));
  const bytes = /^bytes(\d+)$/.exec(param.type);
  if (bytes) return hexlify(randomBytes(Number(bytes[1])));
  throw new Error(`no generator for ${param.type}`);
}

/** What decodeLog returned before it had a fast path: ethers' parseLog, arguments made plain. */
function viaEthers(iface: Interface, log: LogLike) {
  let parsed: ReturnType<Interface['parseLog']>;
  try {
    parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return null;
  }
  if (!parsed) return null;
  const args: Record<string, unknown> = {};
  parsed.fragment.inputs.forEach((param, index) => {
    args[param.name || String(index)] = toPlain(param, parsed.args[index]);
  });
  return { name: parsed.name, signature: parsed.signature, args };
}

function outcome(run: () => unknown): unknown {
  try {
    return { value: run() };
  } catch {
    return 'throws';
  }
}

function expectSame(iface: Interface, log: LogLike): void {
  expect(outcome(() => decodeLog(iface, log))).toEqual(outcome(() => viaEthers(iface, log)));
}

const word = (hex: string) => zeroPadValue(hex, 32).slice(2);
const events: [string, Interface, EventFragment][] = COS_CONTRACT_NAMES.flatMap((name) => {
  const iface = new Interface(COS_ABIS[name]);
  const list: [string, Interface, EventFragment][] = [];
  iface.forEachEvent((fragment) => list.push([`${name}.${fragment.name}`, iface, fragment]));
  return list;
});

describe('decodeLog against ethers parseLog', () => {
  it.each(events)('%s: same result on 40 random well-formed logs', (_, iface, fragment) => {
    for (let i = 0; i < 40; i++) {
      const log = iface.encodeEventLog(fragment, fragment.inputs.map(randomValue));
      const decoded = decodeLog(iface, log);
      expect(decoded?.name).toBe(fragment.name);
      expect(decoded).toEqual(viaEthers(iface, log));
      // Hex case does not matter to either.
      expectSame(iface, {
        topics: log.topics.map((t) => t.toUpperCase().replace('0X', '0x')),
        data: log.data.toUpperCase().replace('0X', '0x'),
      });
    }
  });

  it.each(events)('%s: same result on malformed logs (topics, length, hex)', (_, iface, fragment) => {
    const log = iface.encodeEventLog(fragment, fragment.inputs.map(randomValue));
    const variants: LogLike[] = [
      { topics: log.topics.slice(0, -1), data: log.data },
      { topics: [...log.topics, `0x${word('0x01')}`], data: log.data },
      { topics: [], data: log.data },
      { topics: log.topics, data: `${log.data}${'0'.repeat(64)}` },
      { topics: log.topics, data: log.data.slice(0, -64) },
      { topics: log.topics, data: log.data.slice(0, -1) },
      { topics: log.topics, data: `${log.data.slice(0, -2)}zz` },
      { topics: log.topics, data: '0x' },
      { topics: log.topics.map((t, i) => (i === 0 ? t : t.slice(0, -2))), data: log.data },
      { topics: log.topics.map((t, i) => (i === 0 ? t : `${t.slice(0, -2)}gg`)), data: log.data },
    ];
    for (const variant of variants) expectSame(iface, variant);
  });

  it('Used: non-canonical words decode as ethers decodes them (masked), never differently', () => {
    const fragment = dataAccessInterface.getEvent('Used')!;
    const log = dataAccessInterface.encodeEventLog(fragment, fragment.inputs.map(randomValue));
    const body = log.data.slice(2);
    const words = Array.from({ length: body.length / 64 }, (_, i) => body.slice(i * 64, i * 64 + 64));
    const withWord = (index: number, value: string) => `0x${words.map((w, i) => (i === index ? value : w)).join('')}`;
    // op is a uint8 (word 0), runIndex a uint32 (word 1): dirty high bits.
    for (const data of [
      withWord(0, word('0x0101')),
      withWord(1, `ff${words[1]!.slice(2)}`),
      withWord(0, 'f'.repeat(64)),
    ]) {
      expectSame(dataAccessInterface, { topics: log.topics, data });
    }
  });

  it('non-canonical bool, address, bytesN and int words go to ethers, with ethers’ result', () => {
    const cases: [string, string, number][] = [
      ['IdentitySBT', 'ApprovalForAll', 0], // bool
      ['DatasetRegistry', 'DatasetRoyaltySet', 0], // address
      ['IdentitySBT', 'RegionAttested', 0], // bytes2
      ['Settlement', 'Settled', 1], // address among uints
    ];
    for (const [contract, event, index] of cases) {
      const iface = new Interface(COS_ABIS[contract as keyof typeof COS_ABIS]);
      const fragment = iface.getEvent(event)!;
      const log = iface.encodeEventLog(fragment, fragment.inputs.map(randomValue));
      const body = log.data.slice(2);
      for (const dirty of ['02', 'ff'.repeat(12), 'f'.repeat(64), `0x${'1'.repeat(64)}`.slice(2)]) {
        const original = body.slice(index * 64, index * 64 + 64);
        const changed = `${dirty}${original.slice(dirty.length)}`;
        const tail = `${original.slice(0, 64 - dirty.length)}${dirty}`;
        for (const value of [changed, tail]) {
          expectSame(iface, {
            topics: log.topics,
            data: `0x${body.slice(0, index * 64)}${value}${body.slice(index * 64 + 64)}`,
          });
        }
      }
    }
    // Signed integers: every COS event is unsigned, so check the int reader on an ABI of its own.
    const signed = new Interface(['event Signed(int8 indexed a, int40 b, int256 c, (int16 x, bool y) t)']);
    const fragment = signed.getEvent('Signed')!;
    for (let i = 0; i < 40; i++) expectSame(signed, signed.encodeEventLog(fragment, fragment.inputs.map(randomValue)));
    const log = signed.encodeEventLog(fragment, [-1n, -5n, 7n, [-3n, true]]);
    expect(decodeLog(signed, log)?.args).toEqual({ a: -1n, b: -5n, c: 7n, t: { x: -3n, y: true } });
    // A sign extension that does not match (0x00..ff as an int8) is what ethers masks; same result.
    expectSame(signed, { topics: [log.topics[0]!, `0x${word(toBeHex(255))}`], data: log.data });
    expect(decodeLog(signed, { topics: [log.topics[0]!, `0x${word(toBeHex(255))}`], data: log.data })?.args.a).toBe(
      -1n,
    );
  });

  it('returns null for a topic that is no event of the interface, as ethers does', () => {
    const used = dataAccessInterface.encodeEventLog(dataAccessInterface.getEvent('Used')!, [
      1n,
      2n,
      3n,
      4n,
      5n,
      `0x${word('0x01')}`,
      `0x${word('0x02')}`,
      6n,
    ]);
    expect(decodeLog(new Interface(COS_ABIS.CosToken), used)).toBeNull();
    expect(decodeLog(dataAccessInterface, { topics: ['Used'], data: used.data })).toBeNull();
    expect(decodeLog(dataAccessInterface, { topics: [`0x${word('0x01')}`], data: used.data })).toBeNull();
  });
});
