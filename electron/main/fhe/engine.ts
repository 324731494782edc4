import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FheError } from '../../../shared/fhe/errors';
import { DEFAULT_KEY_REQUESTS, publicKeysDigest, type KeyRequest } from '../../../shared/fhe/key-bundles';
import type { GenotypeLayout, NumericLayout } from '../../../shared/fhe/layout';
import type { ParameterSetId } from '../../../shared/fhe/parameters';
import { fingerprint } from '../keys';
import type { DatasetProgress, EncryptDatasetInput } from './dataset';
import type { FheCallKind, FheCalls, FheReply, FheRequest } from './protocol';
import { checkTermsAllowKeySwitch } from '../../../shared/terms/terms';
import { unwrapKeySwitch, type KeySwitchBundleInput } from './keyswitch';

/** Keys from `FheEngine.generateKeys`. `secretKeys` is for the caller alone: seal it in the vault. */
export interface FheKeyMaterial {
  secretKeys: Uint8Array;
  /** Public and evaluation keys, for the orchestrator (published with the dataset). */
  publicKeys: Uint8Array;
  /** `fingerprint(publicKeys)`: what the UI shows and the vault records. */
  fingerprint: string;
  /** `0x` + SHA-256 of `publicKeys`. */
  publicKeysDigest: string;
  parameterSetIds: ParameterSetId[];
}

export interface FheMessageLogEntry {
  direction: 'to-worker' | 'from-worker';
  message: FheRequest | FheReply;
}

export interface FheEngineOptions {
  /** The worker script; by default worker.js beside this module, or worker.ts (through tsx) in development. */
  workerUrl?: URL;
  /** Sees every message to and from the worker (the leak test scans them). */
  onMessage?: (entry: FheMessageLogEntry) => void;
}

export interface FheCallOptions {
  onProgress?: (progress: DatasetProgress) => void;
  signal?: AbortSignal;
}

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: DatasetProgress) => void;
}

function defaultWorkerUrl(): URL {
  // Built: electron-vite emits the worker as its own entry (out/main/fhe-worker.js) beside the bundled engine.
  for (const name of ['./fhe-worker.js', './worker.js']) {
    const built = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(built))) return built;
  }
  return new URL('./worker.ts', import.meta.url);
}

function spawnWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  // Development and tests: compile the TypeScript worker on the fly with tsx's loader.
  const require = createRequire(import.meta.url);
  const tsxManifest = require.resolve('tsx/package.json');
  const { exports } = require(tsxManifest) as { exports: Record<string, { import: { default: string } }> };
  const tsxApi = pathToFileURL(path.join(path.dirname(tsxManifest), exports['./esm/api']!.import.default)).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true });
}

/**
 * The FHE engine: node-seal in a worker thread, typed requests from the main thread. Requests run one
 * at a time in the worker; long ones report progress and can be cancelled.
 */
export class FheEngine {
  readonly #options: FheEngineOptions;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(options: FheEngineOptions = {}) {
    this.#options = options;
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = spawnWorker(this.#options.workerUrl ?? defaultWorkerUrl());
    worker.on('message', (reply: FheReply) => this.#onReply(reply));
    worker.on('error', (error) => {
      this.#worker = null;
      this.#failAll(new FheError('WORKER_FAILED', `The FHE worker stopped: ${error.message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#failAll(new FheError('WORKER_FAILED', `The FHE worker exited (code ${code})`));
    });
    this.#worker = worker;
    return worker;
  }

  #onReply(reply: FheReply): void {
    this.#options.onMessage?.({ direction: 'from-worker', message: reply });
    if (reply.kind === 'ready') return;
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    if (reply.kind === 'progress') {
      pending.onProgress?.(reply.progress);
      return;
    }
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.kind === 'done') pending.resolve(reply.value as never);
    else pending.reject(new FheError(reply.error.fheCode, reply.error.message, { line: reply.error.line }));
  }

  #post(worker: Worker, message: FheRequest): void {
    this.#options.onMessage?.({ direction: 'to-worker', message });
    worker.postMessage(message);
  }

  #call<K extends FheCallKind>(
    kind: K,
    payload: FheCalls[K]['request'],
    options: FheCallOptions = {},
  ): Promise<FheCalls[K]['reply']> {
    if (options.signal?.aborted) return Promise.reject(new FheError('CANCELLED', `${kind} was cancelled`));
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise<FheCalls[K]['reply']>((resolve, reject) => {
      const onAbort = () => this.#post(worker, { kind: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => options.signal?.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        onProgress: options.onProgress,
      });
      worker.ref();
      this.#post(worker, { kind, id, ...payload } as FheRequest);
    });
  }

  /** Fresh keys for each parameter set (default: the dataset suite, evaluation keys only as algorithms need). */
  async generateKeys(requests: readonly KeyRequest[] = DEFAULT_KEY_REQUESTS): Promise<FheKeyMaterial> {
    const { secretKeys, publicKeys } = await this.#call('generateKeys', { requests: requests.map((r) => ({ ...r })) });
    return {
      secretKeys,
      publicKeys,
      fingerprint: fingerprint(publicKeys),
      publicKeysDigest: publicKeysDigest(publicKeys),
      parameterSetIds: requests.map((request) => request.parameterSetId),
    };
  }

  /** Encrypts a VCF + phenotype CSV into `input.outputDir` (objects and manifest). */
  encryptDataset(input: EncryptDatasetInput, secretKeys: Uint8Array, options: FheCallOptions = {}) {
    return this.#call('encryptDataset', { input, secretKeys }, options);
  }

  decryptGenotypeCounts(request: { secretKeys: Uint8Array; layout: GenotypeLayout; result: Uint8Array }) {
    return this.#call('decryptGenotypeCounts', request);
  }

  decryptNumericSums(request: { secretKeys: Uint8Array; layout: NumericLayout; result: Uint8Array }) {
    return this.#call('decryptNumericSums', request);
  }

  /** Per-sample linear predictors of a logistic-regression result (NaN where excluded or incomplete). */
  decryptLogregScores(request: { secretKeys: Uint8Array; layout: NumericLayout; result: Uint8Array }) {
    return this.#call('decryptLogregScores', request);
  }

  /**
   * Issue 7, owner side: per-result key-switching shares and the result bundle for the lab. The terms
   * are checked here first, so a refusal (KeySwitchError TERMS_FORBID / BAD_TERMS) never sends the key
   * to the worker. Returns the bundle, the shareCommitment for DataAccess.recordKeySwitch and the margins.
   */
  async createKeySwitchBundle(request: { secretKeys: Uint8Array; input: KeySwitchBundleInput }) {
    checkTermsAllowKeySwitch(request.input.terms, request.input.chain);
    return unwrapKeySwitch(await this.#call('createKeySwitchBundle', request));
  }

  /** Issue 7, lab side: decrypts a result bundle with the lab's own secret keys, offline. */
  async decryptKeySwitchBundle(request: { secretKeys: Uint8Array; bundle: Uint8Array }) {
    return unwrapKeySwitch(await this.#call('decryptKeySwitchBundle', request));
  }

  /** Stops the worker; requests still running fail with WORKER_FAILED. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#failAll(new FheError('WORKER_FAILED', 'The FHE engine was closed'));
    if (worker) await worker.terminate();
  }
}
