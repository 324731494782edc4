import { describe, expect, it } from 'vitest';
import { isFheError } from './errors';
import { decodeEnvelope, decodeFrames, encodeEnvelope, encodeFrames, OBJECT_MAGIC } from './frames';

describe('object frames', () => {
  it('round-trips frames, including empty ones', () => {
    const frames = [Uint8Array.of(1, 2, 3), new Uint8Array(), new Uint8Array(70_000).fill(7)];
    const bytes = encodeFrames(frames);
    expect(bytes.subarray(0, 8)).toEqual(OBJECT_MAGIC);
    expect(decodeFrames(bytes, 'x')).toEqual(frames);
  });

  it('refuses bad magic, truncated frames and trailing bytes', () => {
    const bytes = encodeFrames([Uint8Array.of(1, 2, 3)]);
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    for (const broken of [
      badMagic,
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.of(...bytes, 9),
      new Uint8Array(3),
    ]) {
      let caught: unknown;
      try {
        decodeFrames(broken, 'the object', 'BAD_RESULT');
      } catch (error) {
        caught = error;
      }
      expect(isFheError(caught, 'BAD_RESULT')).toBe(true);
    }
  });

  it('puts a canonical JSON header before the blobs of an envelope', () => {
    const bytes = encodeEnvelope({ z: 1, a: 'b' }, [Uint8Array.of(9)]);
    const [header] = decodeFrames(bytes, 'x');
    expect(new TextDecoder().decode(header)).toBe('{"a":"b","z":1}');
    expect(decodeEnvelope(bytes, 'x', 'BAD_KEYS')).toEqual({ header: { a: 'b', z: 1 }, blobs: [Uint8Array.of(9)] });
    expect(() => decodeEnvelope(encodeFrames([Uint8Array.of(0xff)]), 'x', 'BAD_KEYS')).toThrow(/unreadable header/);
  });
});
