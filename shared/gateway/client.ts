import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Signature, TypedDataEncoder, getAddress, recoverAddress, type Signer } from 'ethers';
import type { z } from 'zod';
import { parseManifest, type FheManifest } from '../fhe/manifest';
import {
  ACCESS_TICKET_TYPES,
  HEADER,
  TICKET_REQUEST_TYPES,
  UPLOAD_SIGNATURE_MAX_SECONDS,
  UPLOAD_TYPES,
  challengeResponseSchema,
  encodeHeaderJson,
  gatewayDomain,
  gatewayErrorSchema,
  paths,
  signedTicketSchema,
  ticketAuthorization,
  ticketRequestSchema,
  uploadResponseSchema,
  useStateSchema,
  type GatewayDomain,
  type GatewayErrorCode,
  type SignedTicket,
} from './protocol';

/** Every failure of a gateway call: the gateway's own error reply, or a client-side check (status 0 = no reply). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    readonly code: GatewayErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isGatewayError(error: unknown, code?: GatewayErrorCode): error is GatewayError {
  return error instanceof GatewayError && (code === undefined || error.code === code);
}

export interface GatewayClientOptions {
  baseUrl: string;
  chainId: bigint | number;
  /** DataAccess address: the EIP-712 domain's verifyingContract. */
  dataAccess: string;
  /** Idle timeout of one request (no bytes moving), default 30 s. */
  timeoutMs?: number;
}

export interface TicketOptions {
  sbtId: bigint | number | string;
  datasetId: bigint | number | string;
  op: number;
  /** 0 / absent: grant access; a permit id: compute input (op COMPUTE) or result (op READ). */
  permitId?: bigint | number | string;
}

export type UseState = z.infer<typeof useStateSchema>;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const requestTypes = { TicketRequest: [...TICKET_REQUEST_TYPES.TicketRequest] };
const ticketTypes = { AccessTicket: [...ACCESS_TICKET_TYPES.AccessTicket] };
const uploadTypes = { Upload: [...UPLOAD_TYPES.Upload] };
const SHA = /^[0-9a-f]{64}$/;
const MAX_ERROR_BYTES = 64 * 1024;

function badResponse(message: string, status = 0): GatewayError {
  return new GatewayError(status, 'INTERNAL', `Bad response from the gateway: ${message}`);
}

async function readBody(res: http.IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw badResponse('reply too large', res.statusCode);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The gateway's HTTP client (Node): challenges and tickets, streamed uploads, ticketed downloads checked
 * against their digests. Every reply is validated with the protocol's schemas; every failure is a
 * GatewayError.
 */
export class GatewayClient {
  readonly baseUrl: string;
  readonly domain: GatewayDomain;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(options: GatewayClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The gateway URL must be http(s)');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.domain = gatewayDomain(options.chainId, getAddress(options.dataAccess));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.transport = url.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string | number>,
    body: Buffer | Readable | null,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(
          isGatewayError(error) ? error : new GatewayError(0, 'INTERNAL', `Gateway unreachable: ${error.message}`),
        );
      };
      const req = this.transport.request(`${this.baseUrl}${path}`, { method, headers, agent: this.agent }, (res) => {
        settled = true;
        res.setTimeout(this.timeoutMs, () => res.destroy(new GatewayError(0, 'INTERNAL', 'Gateway reply timed out')));
        resolve(res);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new GatewayError(0, 'INTERNAL', 'Gateway request timed out')));
      req.on('error', fail);
      if (body instanceof Readable) {
        // The gateway may refuse (and answer) before the whole body went out: the reply wins.
        body.on('error', (error) => {
          fail(error);
          req.destroy();
        });
        body.pipe(req);
      } else {
        req.end(body ?? undefined);
      }
    });
  }

  /** Sends, then throws the gateway's error reply as a GatewayError; resolves with a 2xx response. */
  private async call(
    method: string,
    path: string,
    headers: Record<string, string | number> = {},
    body: Buffer | Readable | null = null,
  ): Promise<http.IncomingMessage> {
    const res = await this.send(method, path, headers, body);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const text = await readBody(res, MAX_ERROR_BYTES).catch(() => Buffer.alloc(0));
    let parsed: ReturnType<typeof gatewayErrorSchema.safeParse> | null = null;
    try {
      parsed = gatewayErrorSchema.safeParse(JSON.parse(text.toString('utf8')));
    } catch {
      parsed = null;
    }
    if (parsed?.success) throw new GatewayError(status, parsed.data.error.code, parsed.data.error.message);
    throw badResponse(`HTTP ${status} without a valid error body`, status);
  }

  private async json<T>(schema: z.ZodType<T>, method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = payload
      ? { 'content-type': 'application/json', 'content-length': payload.length }
      : {};
    const res = await this.call(method, path, headers, payload);
    const text = await readBody(res, 1024 * 1024);
    let value: unknown;
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch {
      throw badResponse(`${path} did not answer JSON`, res.statusCode);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw badResponse(`${path} answered an unexpected shape`, res.statusCode);
    return parsed.data;
  }

  /** A one-time nonce for `address` to sign in a ticket request. */
  challenge(address: string): Promise<z.infer<typeof challengeResponseSchema>> {
    return this.json(challengeResponseSchema, 'POST', paths.challenges(), { address: getAddress(address) });
  }

  /**
   * Proves control of the signer's address over a fresh challenge and gets a signed ticket. The reply is
   * checked: the ticket hash is the EIP-712 digest, signed by the named gateway, for this signer and request.
   */
  async requestTicket(signer: Signer, options: TicketOptions): Promise<SignedTicket> {
    const requester = getAddress(await signer.getAddress());
    const { nonce } = await this.challenge(requester);
    const candidate = {
      requester,
      sbtId: BigInt(options.sbtId).toString(),
      datasetId: BigInt(options.datasetId).toString(),
      op: options.op,
      permitId: BigInt(options.permitId ?? 0).toString(),
      nonce,
    };
    const checked = ticketRequestSchema.safeParse(candidate);
    if (!checked.success) throw new GatewayError(0, 'BAD_REQUEST', 'Invalid ticket request (op or ids)');
    const request = checked.data;
    const signature = await signer.signTypedData(this.domain, requestTypes, request);
    const signed = await this.json(signedTicketSchema, 'POST', paths.tickets(), { request, signature });
    const { ticket } = signed;
    const digest = TypedDataEncoder.hash(this.domain, ticketTypes, ticket);
    let signer_: string | null = null;
    try {
      signer_ = recoverAddress(digest, Signature.from(signed.signature));
    } catch {
      signer_ = null;
    }
    if (
      digest !== signed.ticketHash.toLowerCase() ||
      signer_ !== getAddress(signed.gateway) ||
      getAddress(ticket.grantee) !== requester ||
      ticket.op !== request.op ||
      ticket.permitId !== request.permitId ||
      ticket.sbtId !== request.sbtId ||
      (request.datasetId !== '0' && ticket.datasetId !== request.datasetId)
    ) {
      throw badResponse('the ticket does not match the request or its signature');
    }
    return signed;
  }

  /**
   * Uploads an object (a file path, streamed, or bytes), signed by `signer` (an attested steward or
   * orchestrator). `digest` (hex SHA-256) skips hashing a file first; the gateway checks it either way.
   */
  async upload(
    signer: Signer,
    source: string | Uint8Array,
    options: { digest?: string } = {},
  ): Promise<z.infer<typeof uploadResponseSchema>> {
    let digest: string;
    let size: number;
    if (typeof source === 'string') {
      size = (await stat(source)).size;
      if (options.digest !== undefined) digest = options.digest;
      else {
        const hash = createHash('sha256');
        await pipeline(createReadStream(source), hash);
        digest = hash.digest('hex');
      }
    } else {
      size = source.length;
      digest = sha256(source);
      if (options.digest !== undefined && options.digest !== digest) {
        throw new GatewayError(0, 'DIGEST_MISMATCH', 'The bytes do not hash to the given digest');
      }
    }
    if (!SHA.test(digest)) throw new GatewayError(0, 'BAD_REQUEST', 'The digest must be a lowercase hex SHA-256');
    const uploader = getAddress(await signer.getAddress());
    const upload = {
      uploader,
      digest: `0x${digest}`,
      size,
      expiry: Math.floor(Date.now() / 1000) + Math.floor(UPLOAD_SIGNATURE_MAX_SECONDS / 2),
    };
    const signature = await signer.signTypedData(this.domain, uploadTypes, upload);
    const body = typeof source === 'string' ? createReadStream(source) : Buffer.from(source);
    const res = await this.call(
      'PUT',
      paths.upload(digest),
      {
        'content-type': 'application/octet-stream',
        'content-length': size,
        [HEADER.upload]: encodeHeaderJson({ upload, signature }),
      },
      body,
    );
    const text = await readBody(res, 64 * 1024);
    let value: unknown;
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch {
      throw badResponse('upload reply is not JSON', res.statusCode);
    }
    const parsed = uploadResponseSchema.safeParse(value);
    if (!parsed.success || parsed.data.digest !== digest || parsed.data.size !== size) {
      throw badResponse('upload reply does not match the object', res.statusCode);
    }
    return parsed.data;
  }

  /** GET with a ticket, whole body in memory, checked against the x-cos-digest header. */
  private async download(path: string, ticket: SignedTicket): Promise<{ bytes: Buffer; digest: string }> {
    const res = await this.call('GET', path, { [HEADER.authorization]: ticketAuthorization(ticket) });
    const header = res.headers[HEADER.digest];
    const bytes = await readBody(res);
    const digest = sha256(bytes);
    if (typeof header !== 'string' || header !== digest) {
      throw badResponse(`the bytes of ${path} do not hash to its ${HEADER.digest} header`, res.statusCode);
    }
    return { bytes, digest };
  }

  /** The dataset's manifest (bytes as served, and parsed); the ticket names the dataset. */
  async fetchManifest(ticket: SignedTicket): Promise<{ bytes: Uint8Array; manifest: FheManifest }> {
    const { bytes } = await this.download(paths.manifest(ticket.ticket.datasetId), ticket);
    let manifest: FheManifest;
    try {
      manifest = parseManifest(JSON.parse(bytes.toString('utf8')));
    } catch (error) {
      throw badResponse(`the manifest does not parse: ${(error as Error).message}`, 200);
    }
    return { bytes, manifest };
  }

  /** The dataset's public FHE key bundle. */
  async fetchKeys(ticket: SignedTicket): Promise<Uint8Array> {
    return (await this.download(paths.keys(ticket.ticket.datasetId), ticket)).bytes;
  }

  /**
   * One object of the ticket's dataset, verified against `digest`. With `toFile` it is streamed to that
   * path (via a `.part` file renamed at the end; removed when the bytes do not match) and nothing is returned.
   */
  fetchObject(ticket: SignedTicket, digest: string): Promise<Uint8Array>;
  fetchObject(ticket: SignedTicket, digest: string, options: { toFile: string }): Promise<void>;
  fetchObject(ticket: SignedTicket, digest: string, options?: { toFile?: string }): Promise<Uint8Array | void>;
  async fetchObject(
    ticket: SignedTicket,
    digest: string,
    options: { toFile?: string } = {},
  ): Promise<Uint8Array | void> {
    if (!SHA.test(digest)) throw new GatewayError(0, 'BAD_REQUEST', 'The digest must be a lowercase hex SHA-256');
    const path = paths.object(ticket.ticket.datasetId, digest);
    if (!options.toFile) {
      const { bytes, digest: actual } = await this.download(path, ticket);
      if (actual !== digest) throw badResponse(`object ${digest} arrived as ${actual}`, 200);
      return bytes;
    }
    const res = await this.call('GET', path, { [HEADER.authorization]: ticketAuthorization(ticket) });
    const part = `${options.toFile}.part`;
    const hash = createHash('sha256');
    try {
      res.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(res, createWriteStream(part));
      const actual = hash.digest('hex');
      if (actual !== digest || res.headers[HEADER.digest] !== digest) {
        throw badResponse(`object ${digest} arrived as ${actual}`, 200);
      }
      await rename(part, options.toFile);
    } catch (error) {
      await rm(part, { force: true });
      if (isGatewayError(error)) throw error;
      throw new GatewayError(0, 'INTERNAL', `Download of ${digest} failed: ${(error as Error).message}`);
    }
  }

  /** A job result (result ticket); checked against `expectedCommitment` (0x + SHA-256) when given. */
  async fetchResult(ticket: SignedTicket, expectedCommitment?: string): Promise<Uint8Array> {
    const { bytes, digest } = await this.download(paths.result(ticket.ticket.permitId), ticket);
    if (expectedCommitment !== undefined && `0x${digest}` !== expectedCommitment.toLowerCase()) {
      throw badResponse('the result does not hash to the expected commitment', 200);
    }
    return bytes;
  }

  /** How the uses under a ticket stand: pending, recorded (with the transaction) or failed (with the reason). */
  useState(ticketHash: string): Promise<UseState> {
    return this.json(useStateSchema, 'GET', paths.uses(ticketHash));
  }
}
