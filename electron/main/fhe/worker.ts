import { parentPort } from 'node:worker_threads';
import { FheError } from '../../../shared/fhe/errors';
import { loadSeal } from '../../../shared/fhe/seal';
import { encryptDataset } from './dataset';
import { decryptGenotypeCounts, decryptLogregScores, decryptNumericSums } from './decrypt';
import { generateKeyBundles } from './keygen';
import { runCreateKeySwitchBundle, runDecryptKeySwitchBundle } from './keyswitch';
import type { FheCalls, FheCallKind, FheReply, FheRequest } from './protocol';

/*
 * The FHE worker: node-seal lives here, off the main thread. Requests run one at a time; each copy of
 * a secret key this thread received is zeroed when its request ends.
 */

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');
const seal = await loadSeal();
const cancelled = new Set<number>();
let queue = Promise.resolve();

function post(reply: FheReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(reply, transfer);
}

async function run(
  request: Exclude<FheRequest, { kind: 'cancel' }>,
): Promise<{ value: FheCalls[FheCallKind]['reply']; transfer: ArrayBuffer[] }> {
  switch (request.kind) {
    case 'generateKeys': {
      const value = generateKeyBundles(seal, request.requests);
      return { value, transfer: [value.secretKeys.buffer as ArrayBuffer, value.publicKeys.buffer as ArrayBuffer] };
    }
    case 'encryptDataset': {
      const value = await encryptDataset(seal, request.input, request.secretKeys, {
        onProgress: (progress) => post({ kind: 'progress', id: request.id, progress }),
        isCancelled: () => cancelled.has(request.id),
      });
      return { value, transfer: [] };
    }
    case 'decryptGenotypeCounts': {
      const value = decryptGenotypeCounts(seal, request.secretKeys, request.layout, request.result);
      const transfer = [...value.counts.control, ...value.counts.case].map((counts) => counts.buffer as ArrayBuffer);
      return { value, transfer };
    }
    case 'decryptNumericSums':
      return { value: decryptNumericSums(seal, request.secretKeys, request.layout, request.result), transfer: [] };
    case 'decryptLogregScores': {
      const value = decryptLogregScores(seal, request.secretKeys, request.layout, request.result);
      return { value, transfer: [value.linearPredictors.buffer as ArrayBuffer] };
    }
    case 'createKeySwitchBundle':
      return { value: runCreateKeySwitchBundle(seal, request.secretKeys, request.input), transfer: [] };
    case 'decryptKeySwitchBundle':
      return { value: runDecryptKeySwitchBundle(seal, request.secretKeys, request.bundle), transfer: [] };
  }
}

port.on('message', (request: FheRequest) => {
  if (request.kind === 'cancel') {
    cancelled.add(request.id);
    return;
  }
  queue = queue.then(async () => {
    try {
      const { value, transfer } = await run(request);
      post({ kind: 'done', id: request.id, value }, transfer);
    } catch (error) {
      const fheError =
        error instanceof FheError
          ? error
          : new FheError(
              'WORKER_FAILED',
              `The FHE worker failed: ${error instanceof Error ? error.message : String(error)}`,
            );
      post({
        kind: 'failed',
        id: request.id,
        error: { fheCode: fheError.fheCode, message: fheError.message, line: fheError.line },
      });
    } finally {
      if ('secretKeys' in request) request.secretKeys.fill(0);
      cancelled.delete(request.id);
    }
  });
});

post({ kind: 'ready' });
