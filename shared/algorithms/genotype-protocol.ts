import type { FheErrorCode } from '../fhe/errors';

/** Messages between evaluate() and an aggregation thread. */
export type AggregateRequest = { kind: 'add'; sampleIndex: number; bytes: Uint8Array } | { kind: 'finish' };

export type AggregateReply =
  | { kind: 'ready' }
  | { kind: 'added'; sampleIndex: number }
  | { kind: 'result'; bytes: Uint8Array }
  | { kind: 'failed'; fheCode: FheErrorCode; message: string };
