/**
 * Runs the chain watcher on its own over a database file: catches up to the confirmed head and exits, or keeps
 * following with --follow. Prints one JSON line per batch and per reorg. The kill -9 test runs it as a child
 * process; it is also a handy way to fill a cache by hand:
 *
 *   node --import tsx electron/main/chain/watcher-process.ts --db cache.sqlite --rpc http://127.0.0.1:8545 \
 *     --chain-id 31337 --start-block 1 --contracts '{"CosToken":"0x…",…}' [--batch-size 2000] [--confirmations 0]
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { COS_CONTRACT_NAMES } from '../../../shared/contracts';
import { openDatabase } from '../db';
import { ChainWatcher } from './watcher';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    rpc: { type: 'string' },
    'chain-id': { type: 'string' },
    'start-block': { type: 'string' },
    contracts: { type: 'string' },
    'batch-size': { type: 'string', default: '2000' },
    confirmations: { type: 'string', default: '0' },
    follow: { type: 'boolean', default: false },
  },
});

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const contractsSchema = z.object(Object.fromEntries(COS_CONTRACT_NAMES.map((name) => [name, address]))).strict();
const integer = z.coerce.number().int().nonnegative();

const args = z
  .object({
    db: z.string().min(1),
    rpc: z.string().url(),
    chainId: integer,
    startBlock: integer,
    contracts: z.string().transform((text) => contractsSchema.parse(JSON.parse(text))),
    batchSize: integer.min(1),
    confirmations: integer,
  })
  .parse({
    db: values.db,
    rpc: values.rpc,
    chainId: values['chain-id'],
    startBlock: values['start-block'],
    contracts: values.contracts,
    batchSize: values['batch-size'],
    confirmations: values.confirmations,
  });

const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const { db } = openDatabase(args.db);
const watcher = new ChainWatcher({
  db,
  rpcUrl: args.rpc,
  chainId: args.chainId,
  contracts: args.contracts as Record<(typeof COS_CONTRACT_NAMES)[number], string>,
  startBlock: args.startBlock,
  batchSize: args.batchSize,
  confirmations: args.confirmations,
  onProgress: (progress) => print({ type: 'progress', ...progress }),
  onReorg: (reorg) =>
    print({
      type: 'reorg',
      forkBlock: reorg.forkBlock,
      previousBlock: reorg.previousBlock,
      orphaned: reorg.orphaned.length,
    }),
  onError: (error) => print({ type: 'error', message: error.message }),
});

const shutdown = async () => {
  await watcher.stop();
  db.close();
};
process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));
process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));

if (values.follow) {
  watcher.start();
} else {
  try {
    const report = await watcher.syncOnce();
    print({ type: 'done', ...report });
    await shutdown();
  } catch (error) {
    print({ type: 'error', message: (error as Error).message });
    await shutdown();
    process.exitCode = 1;
  }
}
