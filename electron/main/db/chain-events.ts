import type {
  CosContractName,
  CosTokenEvents,
  DataAccessEvents,
  DatasetRegistryEvents,
  IdentitySBTEvents,
  SettlementEvents,
} from '../../../shared/contracts';

/** A JSON value as stored in audit_events.args. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** `T` as stored: every bigint becomes its decimal string, recursively. */
export type Jsonified<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** Decoded event arguments of each contract, by event name (from the generated bindings). */
export interface CosEventArgs {
  CosToken: CosTokenEvents;
  IdentitySBT: IdentitySBTEvents;
  DatasetRegistry: DatasetRegistryEvents;
  DataAccess: DataAccessEvents;
  Settlement: SettlementEvents;
}

/** Where an event sits on the chain: (chainId, blockHash, logIndex) identifies it. */
export interface EventPosition {
  chainId: number;
  blockNumber: number;
  blockHash: string;
  txHash: string;
  logIndex: number;
}

/** A decoded event in the form audit_events keeps it: args with bigints as decimal strings. */
export interface ChainEventRecord extends EventPosition {
  contract: CosContractName;
  name: string;
  args: { [key: string]: JsonValue };
}

/** Decoded ethers values as JSON: bigints as decimal strings, tuples as objects, arrays as arrays. */
export function toJsonValue(value: unknown): JsonValue {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('A decoded event value is not a finite number');
    return value;
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(source)) out[key] = toJsonValue(source[key]);
    return out;
  }
  throw new TypeError(`A decoded event value of type ${typeof value} cannot be stored`);
}

/** The decimal id in `args[key]` as a number, or null (ids are uint40 on chain, so numbers are exact). */
export function idArg(args: { [key: string]: JsonValue }, key: string): number | null {
  const value = args[key];
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : null;
}
