import { Interface, keccak256, toUtf8Bytes } from 'ethers';
import {
  COS_ABIS,
  COS_CONTRACT_NAMES,
  type CosContractAddresses,
  type CosContractName,
  type DecodedEvent,
  decodeCosTokenEvent,
  decodeDataAccessEvent,
  decodeDatasetRegistryEvent,
  decodeIdentitySBTEvent,
  decodeSettlementEvent,
  type LogLike,
} from '../../../shared/contracts';
import { type BlockRef, type ChainEventRecord, type JsonValue, toJsonValue } from '../db';
import type { RejectReason } from './watcher-errors';
import { RejectedLogError, WatcherError } from './watcher-errors';

const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/;
const HEX = /^0x[0-9a-fA-F]*$/;

/** A log as eth_getLogs returns it, after its shape was checked. */
export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  removed: boolean;
}

function quantity(value: unknown, what: string): number {
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    throw new WatcherError('RPC_MALFORMED', `The node sent a ${what} that is not a hex quantity`);
  }
  const number = Number.parseInt(value, 16);
  if (!Number.isSafeInteger(number)) throw new WatcherError('RPC_MALFORMED', `The node sent a ${what} out of range`);
  return number;
}

function matching(value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new WatcherError('RPC_MALFORMED', `The node sent a malformed ${what}`);
  }
  return value.toLowerCase();
}

/**
 * The hashes of a reply repeat (every log of a block carries its hash, every log of a transaction its hash, most
 * logs the same event topic): a string equal to the one checked just before at this position is already known to
 * match, and its lower-case form is reused.
 */
class RepeatCheck {
  private raw: string | null = null;
  private lower = '';

  constructor(
    private readonly pattern: RegExp,
    private readonly what: string,
  ) {}

  check(value: unknown): string {
    if (value === this.raw) return this.lower;
    const lower = matching(value, this.pattern, this.what);
    this.raw = value as string;
    this.lower = lower;
    return lower;
  }
}

const repeats = {
  address: new RepeatCheck(ADDRESS, 'log address'),
  topics: [0, 1, 2, 3].map(() => new RepeatCheck(HASH, 'log topic')),
  blockHash: new RepeatCheck(HASH, 'log block hash'),
  transactionHash: new RepeatCheck(HASH, 'log transaction hash'),
};

function logData(value: unknown): string {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !HEX.test(value)) {
    throw new WatcherError('RPC_MALFORMED', 'The node sent a malformed log data');
  }
  return value.toLowerCase();
}

/** Checks the shape of one eth_getLogs entry; a reply that breaks JSON-RPC's log format fails the whole batch. */
export function parseRpcLog(raw: unknown): RpcLog {
  if (typeof raw !== 'object' || raw === null)
    throw new WatcherError('RPC_MALFORMED', 'The node sent a log that is not an object');
  const entry = raw as Record<string, unknown>;
  if (!Array.isArray(entry.topics) || entry.topics.length > 4) {
    throw new WatcherError('RPC_MALFORMED', 'The node sent a log with malformed topics');
  }
  if (entry.removed !== undefined && typeof entry.removed !== 'boolean') {
    throw new WatcherError('RPC_MALFORMED', 'The node sent a log with a malformed removed flag');
  }
  const topics = entry.topics as unknown[];
  return {
    address: repeats.address.check(entry.address),
    topics: topics.map((topic, index) => repeats.topics[index]!.check(topic)),
    data: logData(entry.data),
    blockNumber: quantity(entry.blockNumber, 'log block number'),
    blockHash: repeats.blockHash.check(entry.blockHash),
    transactionHash: repeats.transactionHash.check(entry.transactionHash),
    logIndex: quantity(entry.logIndex, 'log index'),
    removed: entry.removed === true,
  };
}

/** Checks the shape of an eth_getBlockByNumber reply; null when the block does not exist (yet). */
export function parseBlockHeader(raw: unknown): BlockRef | null {
  if (raw === null) return null;
  if (typeof raw !== 'object') throw new WatcherError('RPC_MALFORMED', 'The node sent a block that is not an object');
  const block = raw as Record<string, unknown>;
  return {
    number: quantity(block.number, 'block number'),
    hash: matching(block.hash, HASH, 'block hash'),
    parentHash: matching(block.parentHash, HASH, 'parent hash'),
  };
}

/** A stable id for a deployment: its five addresses, in deployment order. */
export function deploymentKey(contracts: CosContractAddresses): string {
  return keccak256(toUtf8Bytes(COS_CONTRACT_NAMES.map((name) => `${name}=${contracts[name].toLowerCase()}`).join(',')));
}

const eventTopics = new Map<CosContractName, Set<string>>(
  COS_CONTRACT_NAMES.map((name) => {
    const topics = new Set<string>();
    new Interface(COS_ABIS[name]).forEachEvent((fragment) => topics.add(fragment.topicHash));
    return [name, topics];
  }),
);

const decoders: Record<CosContractName, (log: LogLike) => DecodedEvent | null> = {
  CosToken: decodeCosTokenEvent,
  IdentitySBT: decodeIdentitySBTEvent,
  DatasetRegistry: decodeDatasetRegistryEvent,
  DataAccess: decodeDataAccessEvent,
  Settlement: decodeSettlementEvent,
};

export type ClassifiedLog =
  { event: ChainEventRecord; rejected?: never } | { event?: never; rejected: RejectedLogError };

/**
 * Turns the logs of one deployment into events, or refuses them: a log from another address, a removed one, one
 * whose first topic is no event of its contract, or one that does not decode with the contract's ABI.
 */
export class LogClassifier {
  private readonly contractOf: Map<string, CosContractName>;

  constructor(
    readonly chainId: number,
    readonly contracts: CosContractAddresses,
  ) {
    this.contractOf = new Map(COS_CONTRACT_NAMES.map((name) => [contracts[name].toLowerCase(), name]));
  }

  /** Lower-case addresses to ask eth_getLogs for. */
  addresses(): string[] {
    return [...this.contractOf.keys()];
  }

  classify(log: RpcLog): ClassifiedLog {
    const reject = (reason: RejectReason, message: string): ClassifiedLog => ({
      rejected: new RejectedLogError({
        chainId: this.chainId,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        txHash: log.transactionHash,
        logIndex: log.logIndex,
        address: log.address,
        topics: log.topics,
        data: log.data,
        reason,
        message,
      }),
    });
    const contract = this.contractOf.get(log.address);
    if (!contract) return reject('FOREIGN_ADDRESS', 'not one of the deployment’s contracts');
    if (log.removed) return reject('REMOVED_LOG', 'the node marked it removed (reorged out)');
    const topic = log.topics[0];
    if (!topic || !eventTopics.get(contract)?.has(topic)) {
      return reject('UNKNOWN_EVENT', `no ${contract} event has topic ${topic ?? '(none)'}`);
    }
    // The emitter's own ABI (what decodeCosEvent picks by address, without comparing the five addresses again).
    let decoded: DecodedEvent | null;
    try {
      decoded = decoders[contract](log);
    } catch {
      decoded = null;
    }
    if (!decoded) {
      return reject('MALFORMED_EVENT', `topics or data do not decode as a ${contract} event`);
    }
    return {
      event: {
        chainId: this.chainId,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        txHash: log.transactionHash,
        logIndex: log.logIndex,
        contract,
        name: decoded.name,
        args: toJsonValue(decoded.args) as { [key: string]: JsonValue },
      },
    };
  }
}

/** Whether an eth_getLogs failure means "ask for fewer blocks" (each provider words it its own way). */
export function isTooManyResultsError(error: unknown): boolean {
  const texts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const record = current as { message?: unknown; code?: unknown; error?: unknown; info?: { error?: unknown } };
    if (typeof record.message === 'string') texts.push(record.message);
    if (record.code === -32005) return true;
    current = record.error ?? record.info?.error;
  }
  return texts.some((text) =>
    /too many (results|logs|blocks)|more than \d+ (results|logs)|response size|query timeout|limit exceeded|block range|range (is )?too (large|wide)|exceeds? (the )?(max|limit)/i.test(
      text,
    ),
  );
}
