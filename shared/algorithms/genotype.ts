import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GenotypeCountAggregator } from '../fhe/aggregate';
import { FheError } from '../fhe/errors';
import type { GenotypeLayout } from '../fhe/layout';
import { getParameterSet } from '../fhe/parameters';
import { createSealContext } from '../fhe/seal';
import { AlgorithmError } from './errors';
import type { AggregateReply, AggregateRequest } from './genotype-protocol';
import type { AlgorithmInputs } from './types';

/** Below this many ciphertexts (samples × blocks) a second thread costs more to start than it saves. */
export const THREADED_MIN_CIPHERTEXTS = 4096;
/** Objects queued per aggregation thread: bounds memory to a few sample objects per thread. */
const IN_FLIGHT_PER_THREAD = 2;

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AlgorithmError('CANCELLED', 'The algorithm was cancelled');
}

/** The samples to aggregate with their object digests, in sample order. */
export function genotypeObjects(inputs: AlgorithmInputs): { sampleIndex: number; digest: string }[] {
  const { manifest, excludedSamples } = inputs;
  for (const sample of excludedSamples) {
    if (!Number.isInteger(sample) || sample < 0 || sample >= manifest.sampleCount) {
      throw new AlgorithmError('BAD_INPUT', `Excluded sample ${sample} is not in the cohort`);
    }
  }
  const objects = manifest.objects
    .filter((object) => object.kind === 'genotypes')
    .filter((object) => !excludedSamples.has(object.sampleIndex))
    .map((object) => ({ sampleIndex: object.sampleIndex, digest: object.digest }))
    .sort((a, b) => a.sampleIndex - b.sampleIndex);
  if (objects.length === 0) throw new AlgorithmError('BAD_INPUT', 'Every sample is excluded: nothing to aggregate');
  return objects;
}

export function defaultThreads(layout: GenotypeLayout, samples: number): number {
  if (samples * layout.blockCount < THREADED_MIN_CIPHERTEXTS) return 1;
  return Math.max(1, Math.min(2, os.availableParallelism()));
}

function workerUrl(): URL {
  const built = new URL('./genotype-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : new URL('./genotype-worker.ts', import.meta.url);
}

function spawn(layout: GenotypeLayout): Worker {
  const url = workerUrl();
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: { layout } });
  // Development and tests run TypeScript: the worker registers tsx's loader before importing itself.
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const { exports } = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(path.join(path.dirname(manifestPath), exports['./esm/api']!.import.default)).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData: { layout } });
}

/** One aggregation thread, seen from evaluate(): a bounded queue of sample objects and a partial result. */
class AggregationThread {
  readonly worker: Worker;
  inFlight = 0;
  assigned = 0;
  failure: Error | null = null;
  #wake: (() => void)[] = [];
  #result: { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void } | null = null;

  constructor(layout: GenotypeLayout, onAdded: () => void) {
    this.worker = spawn(layout);
    this.worker.on('message', (reply: AggregateReply) => {
      if (reply.kind === 'added') {
        this.inFlight -= 1;
        onAdded();
      } else if (reply.kind === 'result') {
        this.#result?.resolve(reply.bytes);
      } else if (reply.kind === 'failed') {
        this.#fail(new FheError(reply.fheCode, reply.message));
      }
      this.#notify();
    });
    this.worker.on('error', (error) =>
      this.#fail(new AlgorithmError('WORKER_FAILED', `An aggregation thread failed: ${error.message}`)),
    );
    this.worker.on('exit', (code) => {
      if (code !== 0) this.#fail(new AlgorithmError('WORKER_FAILED', `An aggregation thread exited (code ${code})`));
    });
  }

  #fail(error: Error): void {
    this.failure ??= error;
    this.#result?.reject(this.failure);
    this.#notify();
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = [];
    for (const wake of waiting) wake();
  }

  /** Resolves on the thread's next reply or failure. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#wake.push(resolve));
  }

  add(sampleIndex: number, bytes: Uint8Array): void {
    this.inFlight += 1;
    this.assigned += 1;
    this.worker.postMessage({ kind: 'add', sampleIndex, bytes } satisfies AggregateRequest);
  }

  finish(): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.#result = { resolve, reject };
      this.worker.postMessage({ kind: 'finish' } satisfies AggregateRequest);
    });
  }
}

/**
 * The encrypted genotype aggregate (six counts per SNP per group): sums the included samples' objects,
 * on `threads` worker threads over disjoint samples whose partial results are combined with
 * `addPartialResult`, or on the calling thread when `threads` is 1.
 */
export async function aggregateGenotypeCounts(inputs: AlgorithmInputs, threads?: number): Promise<Uint8Array> {
  const layout = inputs.manifest.genotypeLayout;
  const objects = genotypeObjects(inputs);
  const threadCount = Math.max(1, Math.min(threads ?? defaultThreads(layout, objects.length), objects.length));
  const context = createSealContext(inputs.seal, getParameterSet(layout.parameterSetId));
  const combined = new GenotypeCountAggregator(inputs.seal, context, layout);
  let done = 0;
  const progress = () => inputs.onProgress?.(done, objects.length);
  try {
    progress();
    if (threadCount === 1) {
      for (const { sampleIndex, digest } of objects) {
        checkAborted(inputs.signal);
        combined.addSample(sampleIndex, await inputs.loadObject(digest));
        done += 1;
        progress();
      }
      return combined.finish();
    }
    const pool = Array.from(
      { length: threadCount },
      () =>
        new AggregationThread(layout, () => {
          done += 1;
          progress();
        }),
    );
    try {
      for (const { sampleIndex, digest } of objects) {
        let thread: AggregationThread | undefined;
        for (;;) {
          checkAborted(inputs.signal);
          const failed = pool.find((candidate) => candidate.failure);
          if (failed) throw failed.failure;
          thread = pool
            .filter((candidate) => candidate.inFlight < IN_FLIGHT_PER_THREAD)
            .sort((a, b) => a.inFlight - b.inFlight)[0];
          if (thread) break;
          await Promise.race(pool.map((candidate) => candidate.changed()));
        }
        thread.add(sampleIndex, await inputs.loadObject(digest));
      }
      const partials = await Promise.all(pool.filter((thread) => thread.assigned > 0).map((thread) => thread.finish()));
      checkAborted(inputs.signal);
      for (const partial of partials) combined.addPartialResult(partial);
      return combined.finish();
    } finally {
      await Promise.all(pool.map((thread) => thread.worker.terminate()));
    }
  } finally {
    combined.delete();
    context.delete();
  }
}
