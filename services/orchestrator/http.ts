import type http from 'node:http';
import { z } from 'zod';
import { sendJson, startHttpService } from '../common/http-service';
import type { Logger } from '../common/log';
import { JOB_STATES, type JobRecord, type JobStore } from './store';

/**
 * The orchestrator's HTTP API: `GET /health`, the job status API and the parameter submission.
 * Errors are `{ error: { code, message } }`.
 */
export const MAX_PARAMS_BYTES = 64 * 1024;

export type ApiErrorCode = 'BAD_REQUEST' | 'NOT_FOUND' | 'PARAMS_MISMATCH' | 'TOO_LARGE' | 'INTERNAL';

const permitIdSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,76}$/, 'a permit id (decimal, from 1)')
  .transform((value) => BigInt(value))
  .refine((value) => value < 1n << 256n, 'a uint256');

const listQuerySchema = z.strictObject({
  state: z.enum(JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: permitIdSchema.optional(),
});

export interface JobStatus {
  permitId: string;
  state: JobRecord['state'];
  attempts: number;
  error: string | null;
  datasetId: string;
  grantId: string;
  algorithmId: string;
  paramsHash: string;
  hasParams: boolean;
  resultCommitment: string | null;
  resultURI: string | null;
  txHash: string | null;
  permitBlock: number;
  updatedAt: string;
}

export function jobStatus(job: JobRecord): JobStatus {
  return {
    permitId: job.permitId.toString(),
    state: job.state,
    attempts: job.attempts,
    error: job.error,
    datasetId: job.datasetId.toString(),
    grantId: job.grantId.toString(),
    algorithmId: job.algorithmId,
    paramsHash: job.paramsHash,
    hasParams: job.params !== null,
    resultCommitment: job.resultCommitment,
    resultURI: job.resultURI,
    txHash: job.postTxHash,
    permitBlock: job.blockNumber,
    updatedAt: new Date(job.updatedAt).toISOString(),
  };
}

export interface ApiOptions {
  host: string;
  port: number;
  logger: Logger;
  store: JobStore;
  version: string;
  jobParamsHash: (params: unknown) => string;
  health: () => Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new ApiError(413, 'TOO_LARGE', `The body is over ${limit} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit: keep draining (so the reply can be read) but store nothing.
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function parsePermitId(raw: string): bigint {
  const parsed = permitIdSchema.safeParse(decodeURIComponent(raw));
  if (!parsed.success) throw new ApiError(400, 'BAD_REQUEST', `Bad permit id: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function startApi(options: ApiOptions): Promise<RunningApi> {
  const { logger, store } = options;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean);

    if (parts[0] !== 'v1' || parts[1] !== 'jobs') return false;
    if (parts.length > 4) throw new ApiError(404, 'NOT_FOUND', `No route ${method} ${url.pathname}`);
    if (parts.length === 2 && method === 'GET') {
      const query = listQuerySchema.safeParse(Object.fromEntries(url.searchParams));
      if (!query.success) {
        const issue = query.error.issues[0];
        throw new ApiError(400, 'BAD_REQUEST', `Bad query: ${issue?.path.join('.') || 'query'}: ${issue?.message}`);
      }
      const jobs = store.list({ state: query.data.state, limit: query.data.limit, afterPermitId: query.data.after });
      sendJson(res, 200, { jobs: jobs.map(jobStatus), limit: query.data.limit });
      return true;
    }
    if (parts.length === 3 && method === 'GET') {
      const permitId = parsePermitId(parts[2]!);
      const job = store.get(permitId);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `No job for permit ${permitId} (not seen on chain yet?)`);
      sendJson(res, 200, jobStatus(job));
      return true;
    }
    if (parts.length === 4 && parts[3] === 'params' && method === 'PUT') {
      const permitId = parsePermitId(parts[2]!);
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(type)) {
        throw new ApiError(400, 'BAD_REQUEST', 'Parameters must be sent as application/json');
      }
      const body = await readBody(req, MAX_PARAMS_BYTES);
      let params: unknown;
      try {
        params = JSON.parse(body.toString('utf8'));
      } catch {
        throw new ApiError(400, 'BAD_REQUEST', 'The body is not valid JSON');
      }
      if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        throw new ApiError(400, 'BAD_REQUEST', 'Parameters must be a JSON object');
      }
      const job = store.get(permitId);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `No job for permit ${permitId} (not seen on chain yet?)`);
      let hash: string;
      try {
        hash = options.jobParamsHash(params).toLowerCase();
      } catch (error) {
        throw new ApiError(400, 'BAD_REQUEST', `Parameters cannot be hashed: ${(error as Error).message}`);
      }
      if (hash !== job.paramsHash) {
        throw new ApiError(
          422,
          'PARAMS_MISMATCH',
          `The parameters hash to ${hash}; permit ${permitId} commits to ${job.paramsHash}`,
        );
      }
      store.setParams(permitId, JSON.stringify(params));
      logger.info('job parameters received', { permitId: permitId.toString() });
      sendJson(res, 200, jobStatus(store.get(permitId)!));
      return true;
    }
    throw new ApiError(404, 'NOT_FOUND', `No route ${method} ${url.pathname}`);
  };

  const service = await startHttpService({
    name: 'orchestrator',
    version: options.version,
    host: options.host,
    port: options.port,
    logger,
    health: options.health,
    handler: handle,
  });
  return { url: service.url, close: service.close };
}
