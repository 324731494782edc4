import { createHash } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { getAddress, type BaseWallet, type JsonRpcProvider } from 'ethers';
import { OP, ROLE, type CosContractAddresses } from '../../shared/contracts';
import { parseManifest } from '../../shared/fhe/manifest';
import {
  API_PREFIX,
  HEADER,
  UPLOAD_SIGNATURE_MAX_SECONDS,
  challengeRequestSchema,
  decodeHeaderJson,
  signedTicketRequestSchema,
  signedUploadSchema,
  type SignedTicket,
} from '../../shared/gateway/protocol';
import { sendJson } from '../common/http-service';
import type { Logger } from '../common/log';
import { ChainView, type GrantState, type PermitState } from './chain';
import { HttpError, isHttpError } from './errors';
import { Outbox } from './outbox';
import { ObjectStore } from './store';
import { ChallengeStore, SignedMessages, TicketAuthority, nowSeconds } from './tickets';

export interface GatewayOptions {
  logger: Logger;
  provider: JsonRpcProvider;
  wallet: BaseWallet;
  chainId: bigint;
  addresses: CosContractAddresses;
  dataDir: string;
  maxObjectBytes: number;
  maxStoreBytes: number;
  batchSize: number;
  flushIntervalMs: number;
  chainCacheMs: number;
  ticketTtlSeconds: number;
}

export interface Gateway {
  /** Answers a request under /v1; false when the path is not the gateway's (the caller 404s). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean>;
  health(): Record<string, unknown>;
  outbox: Outbox;
  chain: ChainView;
  /** Cuts uploads in progress (their temp files removed), flushes what it can, closes the outbox. */
  close(): Promise<void>;
}

const MAX_JSON_BYTES = 16 * 1024;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const UINT = /^(0|[1-9][0-9]{0,76})$/;
const SHA = /^[0-9a-f]{64}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const CLOCK_SKEW_SECONDS = 30;

/** Which ticket ops open which dataset route. */
const ROUTE_OPS: Record<'manifest' | 'keys' | 'object', readonly number[]> = {
  manifest: [OP.LIST, OP.READ, OP.EXPORT, OP.COMPUTE],
  keys: [OP.READ, OP.EXPORT, OP.COMPUTE],
  object: [OP.READ, OP.EXPORT, OP.COMPUTE],
};

function sendError(res: http.ServerResponse, error: HttpError, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (close) res.setHeader('connection', 'close');
  sendJson(res, error.status, { error: { code: error.code, message: error.message } });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JSON_BYTES) throw new HttpError('TOO_LARGE', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw new HttpError('TOO_LARGE', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError('BAD_REQUEST', 'The body is not valid JSON');
  }
}

function parseBody<T>(
  schema: {
    safeParse(
      value: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`)
      .join('; ');
    throw new HttpError('BAD_REQUEST', `Invalid request: ${detail}`);
  }
  return parsed.data;
}

function uintParam(value: string, what: string): bigint {
  if (!UINT.test(value)) throw new HttpError('BAD_REQUEST', `${what} must be a decimal integer`);
  return BigInt(value);
}

function digestParam(value: string): string {
  if (!SHA.test(value)) throw new HttpError('BAD_REQUEST', 'The digest must be a lowercase hex SHA-256');
  return value;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { logger, provider, wallet, addresses } = options;
  const store = new ObjectStore(path.join(options.dataDir, 'store'), {
    maxObjectBytes: options.maxObjectBytes,
    maxStoreBytes: options.maxStoreBytes,
  });
  await store.init();
  const outbox = new Outbox(path.join(options.dataDir, 'outbox.sqlite'), {
    wallet,
    provider,
    chainId: options.chainId,
    dataAccess: addresses.DataAccess,
    batchSize: options.batchSize,
    flushIntervalMs: options.flushIntervalMs,
    logger: logger.child({ part: 'outbox' }),
  });
  const chain = new ChainView(provider, addresses, options.chainCacheMs, (grantId) => outbox.settledFor(grantId));
  outbox.start();
  const challenges = new ChallengeStore();
  const authority = new TicketAuthority(wallet, options.chainId, addresses.DataAccess);
  const signedMessages = new SignedMessages(authority.domain);
  const manifests = new Map<string, Set<string>>();
  let served = 0;
  // Stalls of the event loop (synchronous work: SQLite commits, signing...) delay every request in flight.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  let attested = false;
  try {
    attested = ((await chain.roles(wallet.address)) & BigInt(ROLE.GATEWAY)) !== 0n;
  } catch {
    attested = false;
  }
  if (!attested)
    logger.error('the gateway account is not attested GATEWAY on chain: uses cannot be recorded', {
      account: wallet.address,
    });

  // ------------------------------------------------------------------ tickets

  async function issueTicket(body: unknown): Promise<SignedTicket> {
    const { request, signature } = parseBody(signedTicketRequestSchema, body);
    const requester = getAddress(request.requester);
    let signedByRequester: boolean;
    try {
      signedByRequester = signedMessages.ticketRequestSignedBy(request, signature, requester);
    } catch {
      throw new HttpError('BAD_REQUEST', 'Invalid request: a field is out of range for EIP-712');
    }
    if (!signedByRequester) {
      throw new HttpError('BAD_SIGNATURE', 'The request signature does not recover to the requester');
    }
    challenges.consume(request.nonce, requester);
    const permitId = BigInt(request.permitId);
    const sbtId = BigInt(request.sbtId);
    const datasetId = BigInt(request.datasetId);
    const expiry = nowSeconds() + options.ticketTtlSeconds;
    if (permitId === 0n) {
      if (request.op === OP.COMPUTE) throw new HttpError('WRONG_OP', 'COMPUTE tickets name a job permit');
      // The same <= chainCacheMs positive answer the serve path uses (a revoked grant is refused within the
      // same bound); concurrent requests for one grant share one eth_call.
      const grant = await chain.grantAccess(sbtId, requester, datasetId, request.op);
      checkRoom(grant);
      return authority.sign({
        grantee: requester,
        sbtId: request.sbtId,
        datasetId: request.datasetId,
        op: request.op,
        permitId: '0',
        expiry,
      });
    }
    const permit = await chain.permit(permitId, true);
    if (datasetId !== 0n && datasetId !== permit.datasetId) {
      throw new HttpError('WRONG_DATASET', `Permit ${permitId} is for dataset ${permit.datasetId}`);
    }
    if (request.op === OP.COMPUTE) await checkComputeRequester(requester, permit);
    else if (request.op === OP.READ) await checkResultRequester(requester, permit);
    else throw new HttpError('WRONG_OP', 'Permit tickets are COMPUTE (job input) or READ (result)');
    // A permit ticket is authorized by the permit and the requester's role or ownership; the request's
    // sbtId (the requester's own token, as callers send it) is carried as given.
    return authority.sign({
      grantee: requester,
      sbtId: request.sbtId,
      datasetId: permit.datasetId.toString(),
      op: request.op,
      permitId: permitId.toString(),
      expiry,
    });
  }

  async function checkComputeRequester(requester: string, permit: PermitState): Promise<void> {
    if (permit.resultCommitment !== null) {
      throw new HttpError('ACCESS_DENIED', `Access denied: ResultAlreadyPosted (permit ${permit.permitId})`);
    }
    if (((await chain.roles(requester)) & BigInt(ROLE.ORCHESTRATOR)) === 0n) {
      throw new HttpError('ACCESS_DENIED', 'Access denied: MissingRole (not an attested orchestrator)');
    }
  }

  async function checkResultRequester(requester: string, permit: PermitState): Promise<void> {
    if (permit.resultCommitment === null)
      throw new HttpError('NOT_FOUND', `Permit ${permit.permitId} has no posted result`);
    const [dataset, holder] = await Promise.all([chain.dataset(permit.datasetId), chain.holderOf(permit.granteeSbtId)]);
    if (requester !== getAddress(dataset.owner) && requester !== getAddress(holder)) {
      throw new HttpError(
        'ACCESS_DENIED',
        "Access denied: NotOwnerOrGrantee (only the dataset's owner or the grantee)",
      );
    }
  }

  /** Uses not yet on chain count against the grant's runs (recordUse would revert once they are gone). */
  function checkRoom(grant: GrantState): void {
    // Not yet on chain: pending uses, and uses recorded after the (cached, <= chainCacheMs) grant state was
    // read, which its runsUsed does not show yet. So a cached answer needs no invalidation when uses land.
    const pending = BigInt(outbox.pendingFor(grant.grantId) + outbox.settledFor(grant.grantId) - grant.settledAtRead);
    let cap = grant.maxRuns;
    if (grant.feePerUse > 0n && grant.paidRuns < cap) cap = grant.paidRuns;
    if (grant.runsUsed + pending >= cap) {
      throw new HttpError('ACCESS_DENIED', 'Access denied: RunsExhausted (counting uses not yet recorded)');
    }
    if (grant.rateMaxRuns > 0n) {
      const inWindow = BigInt(nowSeconds()) < grant.windowStart + grant.rateWindow;
      if ((inWindow ? grant.windowRuns : 0n) + pending >= grant.rateMaxRuns) {
        throw new HttpError('ACCESS_DENIED', 'Access denied: RateLimited (counting uses not yet recorded)');
      }
    }
  }

  // ------------------------------------------------------------------ serving

  async function manifestDigests(commitment: string): Promise<Set<string>> {
    const cached = manifests.get(commitment);
    if (cached) return cached;
    const bytes = await store.readSmall(commitment.slice(2), MAX_MANIFEST_BYTES);
    if (!bytes) throw new HttpError('NOT_FOUND', "The dataset's manifest is not stored here");
    let digests: Set<string>;
    try {
      digests = new Set(parseManifest(JSON.parse(bytes.toString('utf8'))).objects.map((object) => object.digest));
    } catch {
      throw new HttpError('NOT_FOUND', "The dataset's stored manifest is not a valid manifest");
    }
    if (manifests.size > 1_000) manifests.clear();
    manifests.set(commitment, digests);
    return digests;
  }

  async function serveDatasetRoute(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: 'manifest' | 'keys' | 'object',
    datasetId: bigint,
    objectDigest: string | null,
  ): Promise<void> {
    const signed = authority.verify(req.headers[HEADER.authorization]);
    const { ticket } = signed;
    const permitId = BigInt(ticket.permitId);
    if ((permitId !== 0n && ticket.op !== OP.COMPUTE) || !ROUTE_OPS[route].includes(ticket.op)) {
      throw new HttpError(
        'WRONG_OP',
        `This ticket (op ${ticket.op}${permitId ? `, permit ${permitId}` : ''}) does not open ${route}`,
      );
    }
    if (BigInt(ticket.datasetId) !== datasetId) {
      throw new HttpError('WRONG_DATASET', `The ticket is for dataset ${ticket.datasetId}`);
    }
    let grant: GrantState | null = null;
    const grantee = getAddress(ticket.grantee);
    if (permitId === 0n) {
      grant = await chain.grantAccess(BigInt(ticket.sbtId), grantee, datasetId, ticket.op);
    } else {
      const permit = await chain.permit(permitId);
      if (permit.datasetId !== datasetId)
        throw new HttpError('WRONG_DATASET', `Permit ${permitId} is for another dataset`);
      await checkComputeRequester(grantee, permit);
    }
    const dataset = await chain.dataset(datasetId);
    let digest: string;
    if (route === 'manifest') digest = dataset.manifestCommitment.slice(2);
    else if (route === 'keys') digest = dataset.fheKeyFingerprint.slice(2);
    else {
      digest = objectDigest!;
      if (!(await manifestDigests(dataset.manifestCommitment)).has(digest)) {
        throw new HttpError('NOT_FOUND', `Object ${digest} is not listed in dataset ${datasetId}'s manifest`);
      }
    }
    const size = await store.size(digest);
    if (size === null) throw new HttpError('NOT_FOUND', `Object ${digest} is not stored here`);
    if (grant) {
      const use = `0x${digest}`;
      if (!outbox.has(signed.ticketHash, use)) {
        checkRoom(grant);
        // Durable before the first byte: a crash after this point still records the use.
        await outbox.add({
          ticketHash: signed.ticketHash,
          objectDigest: use,
          grantId: grant.grantId,
          op: ticket.op,
          ticketExpiry: ticket.expiry,
        });
      }
    }
    await streamObject(res, digest, size);
  }

  async function serveResult(req: http.IncomingMessage, res: http.ServerResponse, permitId: bigint): Promise<void> {
    const { ticket } = authority.verify(req.headers[HEADER.authorization]);
    if (BigInt(ticket.permitId) === 0n || ticket.op !== OP.READ) {
      throw new HttpError('WRONG_OP', 'Results open with a result ticket (a permit, op READ)');
    }
    if (BigInt(ticket.permitId) !== permitId)
      throw new HttpError('WRONG_DATASET', `The ticket is for permit ${ticket.permitId}`);
    const permit = await chain.permit(permitId);
    await checkResultRequester(getAddress(ticket.grantee), permit);
    const digest = permit.resultCommitment!.slice(2);
    const size = await store.size(digest);
    if (size === null) throw new HttpError('NOT_FOUND', `Result object ${digest} is not stored here`);
    await streamObject(res, digest, size);
  }

  async function streamObject(res: http.ServerResponse, digest: string, size: number): Promise<void> {
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      [HEADER.digest]: digest,
    };
    if (store.servedFromMemory(size)) {
      // Small objects: whole from the store's bounded memory cache, one write, no stream machinery.
      let bytes: Buffer | null;
      try {
        bytes = await store.readCached(digest);
      } catch {
        bytes = null;
      }
      if (!bytes || bytes.length !== size) throw new HttpError('NOT_FOUND', `Object ${digest} is not stored here`);
      res.writeHead(200, headers);
      served += 1;
      res.end(bytes);
      return;
    }
    const stream = store.openRead(digest, size);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', () => reject(new HttpError('NOT_FOUND', `Object ${digest} is not stored here`)));
    });
    res.writeHead(200, headers);
    served += 1;
    try {
      await pipeline(stream, res);
    } catch {
      // The client went away mid-body; its use is recorded all the same (bytes left the store).
      stream.destroy();
    }
  }

  // ------------------------------------------------------------------ uploads

  async function upload(req: http.IncomingMessage, res: http.ServerResponse, digest: string): Promise<void> {
    const header = req.headers[HEADER.upload];
    if (typeof header !== 'string' || header.length > 4_096) {
      throw new HttpError('BAD_REQUEST', `The ${HEADER.upload} header is missing or too long`);
    }
    let raw: unknown;
    try {
      raw = decodeHeaderJson(header);
    } catch {
      throw new HttpError('BAD_REQUEST', `The ${HEADER.upload} header is not base64url JSON`);
    }
    const { upload: message, signature } = parseBody(signedUploadSchema, raw);
    if (message.digest.toLowerCase() !== `0x${digest}`) {
      throw new HttpError('BAD_REQUEST', 'The upload signature names another digest than the path');
    }
    const uploader = getAddress(message.uploader);
    if (!signedMessages.uploadSignedBy(message, signature, uploader)) {
      throw new HttpError('BAD_SIGNATURE', 'The upload signature does not recover to the uploader');
    }
    const now = nowSeconds();
    if (message.expiry <= now) throw new HttpError('BAD_SIGNATURE', 'The upload signature expired');
    if (message.expiry > now + UPLOAD_SIGNATURE_MAX_SECONDS + CLOCK_SKEW_SECONDS) {
      throw new HttpError('BAD_SIGNATURE', `Upload signatures may be valid at most ${UPLOAD_SIGNATURE_MAX_SECONDS} s`);
    }
    if (message.size > options.maxObjectBytes) {
      throw new HttpError(
        'TOO_LARGE',
        `Object of ${message.size} bytes is over the limit of ${options.maxObjectBytes}`,
      );
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) !== message.size) {
      throw new HttpError('DIGEST_MISMATCH', `content-length ${declared} is not the signed size ${message.size}`);
    }
    const roles = await chain.roles(uploader);
    if ((roles & BigInt(ROLE.STEWARD | ROLE.ORCHESTRATOR)) === 0n) {
      // Anyone else may only publish its own public FHE key bundle, the one its identity token names.
      const identity = await chain.identityKey(uploader);
      if (identity.sbtId === 0n || identity.fheKeyFingerprint !== `0x${digest}`) {
        throw new HttpError(
          'ACCESS_DENIED',
          'Access denied: uploads need an attested steward or orchestrator, or are the uploader’s own published key bundle',
        );
      }
    }
    const result = await store.put(digest, message.size, req);
    if (result.created) logger.info('object stored', { digest, size: result.size, uploader });
    sendJson(res, result.created ? 201 : 200, result);
  }

  // ------------------------------------------------------------------ router

  const ZERO_DIGEST = `0x${'0'.repeat(64)}`;

  async function route(req: http.IncomingMessage, res: http.ServerResponse, parts: string[]): Promise<void> {
    const method = req.method ?? 'GET';
    const [a, b, c, d] = parts;
    if (parts.length === 1 && a === 'challenges' && method === 'POST') {
      const { address } = parseBody(challengeRequestSchema, await readJson(req));
      sendJson(res, 200, challenges.issue(getAddress(address)));
      return;
    }
    if (parts.length === 1 && a === 'tickets' && method === 'POST') {
      sendJson(res, 200, await issueTicket(await readJson(req)));
      return;
    }
    if (parts.length === 2 && a === 'objects' && method === 'PUT') {
      await upload(req, res, digestParam(b!));
      return;
    }
    if (a === 'datasets' && method === 'GET') {
      if (parts.length === 3 && (c === 'manifest' || c === 'keys')) {
        await serveDatasetRoute(req, res, c, uintParam(b!, 'datasetId'), null);
        return;
      }
      if (parts.length === 4 && c === 'objects') {
        await serveDatasetRoute(req, res, 'object', uintParam(b!, 'datasetId'), digestParam(d!));
        return;
      }
    }
    if (parts.length === 2 && a === 'results' && method === 'GET') {
      await serveResult(req, res, uintParam(b!, 'permitId'));
      return;
    }
    if (parts.length === 3 && a === 'identities' && c === 'keys' && method === 'GET') {
      const fingerprint = await chain.fheKeyOf(uintParam(b!, 'sbtId'));
      if (fingerprint === ZERO_DIGEST) throw new HttpError('NOT_FOUND', `Identity ${b} has published no FHE key`);
      const digest = fingerprint.slice(2);
      const size = await store.size(digest);
      if (size === null) throw new HttpError('NOT_FOUND', `The key bundle of identity ${b} is not stored here`);
      await streamObject(res, digest, size);
      return;
    }
    if (parts.length === 2 && a === 'uses' && method === 'GET') {
      if (!BYTES32.test(b!)) throw new HttpError('BAD_REQUEST', 'ticketHash must be a 0x-prefixed bytes32');
      sendJson(res, 200, { ticketHash: b!.toLowerCase(), uses: outbox.state(b!) });
      return;
    }
    throw new HttpError('NOT_FOUND', `No route ${method} ${API_PREFIX}/${parts.join('/')}`);
  }

  return {
    outbox,
    chain,
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://gateway.invalid');
      if (url.pathname !== API_PREFIX && !url.pathname.startsWith(`${API_PREFIX}/`)) return false;
      const parts = url.pathname.slice(API_PREFIX.length + 1).split('/');
      const started = Date.now();
      try {
        await route(req, res, parts);
      } catch (error) {
        const known = isHttpError(error) ? error : null;
        if (!known)
          logger.error('request failed', { method: req.method, path: url.pathname, error: (error as Error).message });
        else
          logger.debug('request refused', {
            method: req.method,
            path: url.pathname,
            code: known.code,
            message: known.message,
          });
        const reply = known ?? new HttpError('INTERNAL', 'Internal error');
        // An upload refused before its body was read: close rather than read gigabytes for nothing.
        sendError(res, reply, req.method === 'PUT' && !req.readableEnded);
      }
      logger.debug('request', {
        method: req.method,
        path: url.pathname,
        status: res.statusCode,
        ms: Date.now() - started,
      });
      return true;
    },
    health() {
      return {
        chainId: options.chainId.toString(),
        gateway: wallet.address,
        attested,
        objectsServed: served,
        storedBytes: store.storedBytes,
        outboxPending: outbox.pendingTotal,
        uses: outbox.counts(),
        challenges: challenges.size,
        eventLoopDelayMs: {
          p50: Math.round(loopDelay.percentile(50) / 1e4) / 100,
          p99: Math.round(loopDelay.percentile(99) / 1e4) / 100,
          max: Math.round(loopDelay.max / 1e4) / 100,
        },
      };
    },
    async close() {
      loopDelay.disable();
      await store.abortUploads();
      await outbox.drain(3_000).catch(() => undefined);
      await outbox.close();
    },
  };
}

/** SHA-256 hex of bytes (tests and the benchmark). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
