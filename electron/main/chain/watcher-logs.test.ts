import { id } from 'ethers';
import { describe, expect, it } from 'vitest';
import { dataAccessInterface } from '../../../shared/contracts';
import { isWatcherError } from './watcher-errors';
import { deploymentKey, isTooManyResultsError, LogClassifier, parseBlockHeader, parseRpcLog } from './watcher-logs';

const contracts = {
  CosToken: '0x1111111111111111111111111111111111111111',
  IdentitySBT: '0x2222222222222222222222222222222222222222',
  DatasetRegistry: '0x3333333333333333333333333333333333333333',
  DataAccess: '0x4444444444444444444444444444444444444444',
  Settlement: '0x5555555555555555555555555555555555555555',
};
const used = dataAccessInterface.encodeEventLog(dataAccessInterface.getEvent('Used')!, [
  7n,
  1n,
  4n,
  1n,
  3n,
  id('ticket'),
  id('digest'),
  1n,
]);
const rpcLog = (overrides: Record<string, unknown> = {}) => ({
  address: contracts.DataAccess,
  topics: used.topics,
  data: used.data,
  blockNumber: '0x10',
  blockHash: id('block 16'),
  transactionHash: id('tx'),
  logIndex: '0x2',
  removed: false,
  ...overrides,
});

describe('parseRpcLog and parseBlockHeader', () => {
  it('accept what a node sends and normalise hex to lower case', () => {
    const log = parseRpcLog(rpcLog({ address: contracts.DataAccess.toUpperCase().replace('0X', '0x') }));
    expect(log).toMatchObject({ address: contracts.DataAccess, blockNumber: 16, logIndex: 2, removed: false });
    expect(parseBlockHeader({ number: '0x0', hash: id('a'), parentHash: id('b'), extra: 1 })).toEqual({
      number: 0,
      hash: id('a'),
      parentHash: id('b'),
    });
    expect(parseBlockHeader(null)).toBeNull();
  });

  it.each([
    ['a missing block hash', { blockHash: undefined }],
    ['a short topic', { topics: ['0x1234'] }],
    ['five topics', { topics: Array(5).fill(id('t')) }],
    ['odd-length data', { data: '0x123' }],
    ['a decimal block number', { blockNumber: '16' }],
    ['a padded quantity', { logIndex: '0x02' }],
    ['a string removed flag', { removed: 'false' }],
  ])('refuse a log with %s as a malformed reply', (_, overrides) => {
    let error: unknown;
    try {
      parseRpcLog(rpcLog(overrides));
    } catch (caught) {
      error = caught;
    }
    expect(isWatcherError(error, 'RPC_MALFORMED')).toBe(true);
  });
});

describe('parseRpcLog on a reply whose hashes repeat', () => {
  it('checks and lower-cases each log, whatever came before', () => {
    const upper = (hex: string) => `0x${hex.slice(2).toUpperCase()}`;
    expect(parseRpcLog(rpcLog()).blockHash).toBe(id('block 16'));
    expect(parseRpcLog(rpcLog({ blockHash: upper(id('block 16')) })).blockHash).toBe(id('block 16'));
    expect(parseRpcLog(rpcLog({ blockHash: upper(id('block 16')) })).blockHash).toBe(id('block 16'));
    expect(() => parseRpcLog(rpcLog({ blockHash: `${id('block 16')}00` }))).toThrow(/malformed log block hash/);
    expect(() => parseRpcLog(rpcLog({ topics: [used.topics[0], 'nope'] }))).toThrow(/malformed log topic/);
    expect(() => parseRpcLog(rpcLog({ transactionHash: 42 }))).toThrow(/malformed log transaction hash/);
    expect(parseRpcLog(rpcLog()).topics).toEqual(used.topics);
  });
});

describe('LogClassifier', () => {
  const classifier = new LogClassifier(31337, contracts);

  it('decodes an event of the deployment, bigints as decimal strings', () => {
    const { event } = classifier.classify(parseRpcLog(rpcLog()));
    expect(event).toEqual({
      chainId: 31337,
      blockNumber: 16,
      blockHash: id('block 16'),
      txHash: id('tx'),
      logIndex: 2,
      contract: 'DataAccess',
      name: 'Used',
      args: {
        grantId: '7',
        datasetId: '1',
        granteeSbtId: '4',
        op: '1',
        runIndex: '3',
        ticketCommitment: id('ticket'),
        objectDigest: id('digest'),
        gatewaySbtId: '1',
      },
    });
    expect(classifier.addresses()).toHaveLength(5);
  });

  it.each([
    ['FOREIGN_ADDRESS', { address: '0x6666666666666666666666666666666666666666' }],
    ['REMOVED_LOG', { removed: true }],
    ['UNKNOWN_EVENT', { topics: [id('Nothing(uint256)')] }],
    ['UNKNOWN_EVENT', { topics: [] }],
    // Used's topic at the CosToken address is no CosToken event.
    ['UNKNOWN_EVENT', { address: contracts.CosToken }],
    ['MALFORMED_EVENT', { data: '0x' }],
    ['MALFORMED_EVENT', { topics: used.topics.slice(0, 2) }],
  ])('refuses %s with a typed error that carries the log', (reason, overrides) => {
    const { event, rejected } = classifier.classify(parseRpcLog(rpcLog(overrides)));
    expect(event).toBeUndefined();
    expect(rejected).toMatchObject({ reason, watcherCode: 'LOG_REJECTED', code: 'BAD_RESPONSE' });
    expect(rejected!.log).toMatchObject({ chainId: 31337, blockNumber: 16, logIndex: 2, reason });
  });
});

describe('isTooManyResultsError', () => {
  it.each([
    { code: -32005, message: 'limit exceeded' },
    { message: 'could not coalesce error', error: { code: -32602, message: 'query returned more than 10000 results' } },
    {
      info: {
        error: { message: 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range' },
      },
    },
    new Error('block range is too wide'),
    { message: 'eth_getLogs is limited to a 10,000 range', error: { message: 'exceed maximum block range: 5000' } },
  ])('recognises %j', (error) => {
    expect(isTooManyResultsError(error)).toBe(true);
  });

  it('leaves other failures alone', () => {
    expect(isTooManyResultsError(new Error('connect ECONNREFUSED 127.0.0.1:8545'))).toBe(false);
    expect(isTooManyResultsError({ error: { code: -32000, message: 'header not found' } })).toBe(false);
  });
});

describe('deploymentKey', () => {
  it('names a deployment by its five addresses, whatever their case', () => {
    const upper = Object.fromEntries(
      Object.entries(contracts).map(([k, v]) => [k, v.toUpperCase().replace('0X', '0x')]),
    );
    expect(deploymentKey(upper as typeof contracts)).toBe(deploymentKey(contracts));
    expect(deploymentKey({ ...contracts, Settlement: contracts.CosToken })).not.toBe(deploymentKey(contracts));
  });
});
