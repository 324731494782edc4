import { parentPort, workerData } from 'node:worker_threads';
import { GenotypeCountAggregator } from '../fhe/aggregate';
import { FheError } from '../fhe/errors';
import type { GenotypeLayout } from '../fhe/layout';
import { getParameterSet } from '../fhe/parameters';
import { createSealContext, loadSeal } from '../fhe/seal';
import type { AggregateReply, AggregateRequest } from './genotype-protocol';

/*
 * One aggregation thread: sums the genotype objects it is sent into a partial result over its samples.
 * It holds no key at all; the main thread combines the partial results with addPartialResult.
 */

const port = parentPort;
if (!port) throw new Error('genotype-worker.ts runs as a worker thread');
const { layout } = workerData as { layout: GenotypeLayout };
const seal = await loadSeal();
const context = createSealContext(seal, getParameterSet(layout.parameterSetId));
const aggregator = new GenotypeCountAggregator(seal, context, layout);

function post(reply: AggregateReply): void {
  port!.postMessage(reply);
}

port.on('message', (request: AggregateRequest) => {
  try {
    if (request.kind === 'add') {
      aggregator.addSample(request.sampleIndex, request.bytes);
      post({ kind: 'added', sampleIndex: request.sampleIndex });
    } else {
      post({ kind: 'result', bytes: aggregator.finish() });
      aggregator.delete();
      context.delete();
    }
  } catch (error) {
    const fheError =
      error instanceof FheError
        ? error
        : new FheError(
            'WORKER_FAILED',
            `Aggregation failed: ${error instanceof Error ? error.message : String(error)}`,
          );
    post({ kind: 'failed', fheCode: fheError.fheCode, message: fheError.message });
  }
});

post({ kind: 'ready' });
