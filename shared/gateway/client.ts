import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { secp256k1 } from '@noble/curves/secp256k1';
import {
  BaseWallet,
  Signature,
  SigningKey,
  computeAddress,
  getAddress,
  keccak256,
  toUtf8Bytes,
  type Signer,
} from 'ethers';
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
  type AccessTicket,
  type GatewayDomain,
  type GatewayErrorCode,
  type SignedTicket,
  type SignedTicketRequest,
  type TicketRequestMessage,
  type UploadMessage,
} from './protocol';

// ------------------------------------------------------------------ EIP-712 digests and signature checks
//
// ethers' TypedDataEncoder rebuilds the type encoder and re-hashes the type strings on every call (~1 ms);
// the three protocol types are flat structs of static fields, so their digests are one keccak over
// typeHash ‖ 32-byte words, under a domain separator computed once. `client.test.ts` checks them against
// TypedDataEncoder. Signature checks give exactly ethers' `recoverAddress(digest, sig) === address`
// answer, but for a key seen before they verify against its cached, window-precomputed public point
// (u1·G + u2·Q must be the point R that (r, yParity) names) instead of recovering it (~4x faster).

type FieldType = 'address' | 'uint8' | 'uint64' | 'uint256' | 'bytes32';
type Field = { readonly name: string; readonly type: string };

const UINT_BITS: Record<string, bigint> = { uint8: 8n, uint64: 64n, uint256: 256n };

/** Thrown for a field value EIP-712 cannot encode (an address or bytes32 of the wrong form, a uint out of range). */
export class TypedDataValueError extends Error {
  override readonly name = 'TypedDataValueError';
}

function writeWord(out: Buffer, offset: number, type: FieldType, value: unknown): void {
  if (type === 'address' || type === 'bytes32') {
    const hex = String(value);
    const ok = type === 'address' ? /^0x[0-9a-fA-F]{40}$/.test(hex) : /^0x[0-9a-fA-F]{64}$/.test(hex);
    if (!ok) throw new TypedDataValueError(`not an EIP-712 ${type}`);
    const bytes = Buffer.from(hex.slice(2), 'hex');
    // address: left-padded to 32 bytes; bytes32 as it is.
    bytes.copy(out, offset + 32 - bytes.length);
    return;
  }
  let n: bigint;
  try {
    n = typeof value === 'bigint' ? value : BigInt(value as string | number);
  } catch {
    throw new TypedDataValueError(`not an EIP-712 ${type}`);
  }
  if (n < 0n || n >> UINT_BITS[type]! !== 0n) throw new TypedDataValueError(`${type} out of range`);
  out.write(n.toString(16).padStart(64, '0'), offset, 32, 'hex');
}

function structHasher<T>(name: string, fields: readonly Field[]): (value: T) => Buffer {
  const typeHash = Buffer.from(
    keccak256(toUtf8Bytes(`${name}(${fields.map((field) => `${field.type} ${field.name}`).join(',')})`)).slice(2),
    'hex',
  );
  for (const field of fields) {
    if (!['address', 'uint8', 'uint64', 'uint256', 'bytes32'].includes(field.type))
      throw new Error(`unsupported EIP-712 field type ${field.type}`);
  }
  return (value: T) => {
    const out = Buffer.alloc(32 * (fields.length + 1));
    typeHash.copy(out, 0);
    const record = value as Record<string, unknown>;
    fields.forEach((field, i) => writeWord(out, 32 * (i + 1), field.type as FieldType, record[field.name]));
    return Buffer.from(keccak256(out).slice(2), 'hex');
  };
}

const hashTicketRequest = structHasher<TicketRequestMessage>('TicketRequest', TICKET_REQUEST_TYPES.TicketRequest);
const hashAccessTicket = structHasher<AccessTicket>('AccessTicket', ACCESS_TICKET_TYPES.AccessTicket);
const hashUpload = structHasher<UploadMessage>('Upload', UPLOAD_TYPES.Upload);

/** EIP-712 digests of the gateway's three message types in one domain (the separator computed once). */
export class GatewayTypedData {
  private readonly prefix: Buffer;

  constructor(readonly domain: GatewayDomain) {
    const word = (hex: string) => Buffer.from(hex.slice(2), 'hex');
    const domainType = keccak256(
      toUtf8Bytes('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
    );
    const encoded = Buffer.alloc(32 * 5);
    word(domainType).copy(encoded, 0);
    word(keccak256(toUtf8Bytes(domain.name))).copy(encoded, 32);
    word(keccak256(toUtf8Bytes(domain.version))).copy(encoded, 64);
    writeWord(encoded, 96, 'uint256', domain.chainId);
    writeWord(encoded, 128, 'address', domain.verifyingContract);
    this.prefix = Buffer.concat([Buffer.from([0x19, 0x01]), word(keccak256(encoded))]);
  }

  private digest(structHash: Buffer): string {
    return keccak256(Buffer.concat([this.prefix, structHash]));
  }

  ticketRequest(request: TicketRequestMessage): string {
    return this.digest(hashTicketRequest(request));
  }

  accessTicket(ticket: AccessTicket): string {
    return this.digest(hashAccessTicket(ticket));
  }

  upload(upload: UploadMessage): string {
    return this.digest(hashUpload(upload));
  }
}

const CURVE_N = secp256k1.CURVE.n;
type CurvePoint = InstanceType<typeof secp256k1.ProjectivePoint>;

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

/**
 * Decides `recoverAddress(digest, signature) === address` (ethers' parsing rules for the signature),
 * remembering the public keys of up to `capacity` addresses it saw sign correctly: for those it checks
 * u1·G + u2·Q = R(r, yParity) with Q's multiples precomputed (window `windowSize`), which holds exactly
 * when recovery would give Q. Unknown addresses are recovered in full.
 */
/**
 * Multiples of one fixed point for variable-time scalar multiplication (public data only: signature
 * verification). Row i holds 1..2^(W-1) times 2^(W·i)·P; a scalar in signed base-2^W digits is then one
 * addition per non-zero digit (~256/W), no doublings.
 */
class PointTable {
  private readonly rows: CurvePoint[][] = [];

  constructor(
    readonly point: CurvePoint,
    private readonly window: number,
  ) {
    const half = 2 ** (window - 1);
    let base = point;
    for (let i = 0; i < Math.ceil(256 / window) + 1; i++) {
      const row = [base];
      for (let j = 1; j < half; j++) row.push(row[j - 1]!.add(base));
      this.rows.push(row);
      base = row[half - 1]!.double();
    }
  }

  multiply(scalar: bigint): CurvePoint {
    const size = 2 ** this.window;
    const half = size / 2;
    const mask = BigInt(size - 1);
    const shift = BigInt(this.window);
    let n = scalar;
    let sum = secp256k1.ProjectivePoint.ZERO;
    for (const row of this.rows) {
      let digit = Number(n & mask);
      n >>= shift;
      if (digit > half) {
        digit -= size;
        n += 1n;
      }
      if (digit > 0) sum = sum.add(row[digit - 1]!);
      else if (digit < 0) sum = sum.add(row[-digit - 1]!.negate());
    }
    if (n !== 0n) throw new Error('scalar out of range');
    return sum;
  }
}

let generatorTable: PointTable | null = null;

/**
 * Decides `recoverAddress(digest, signature) === address` (ethers' parsing rules for the signature),
 * remembering the public keys of up to `capacity` addresses it saw sign correctly: for those it checks
 * u1·G + u2·Q = R(r, yParity) with Q's multiples precomputed (window `windowSize`), which holds exactly
 * when recovery would give Q. Unknown addresses are recovered in full.
 */
export class SignatureChecker {
  private readonly keys = new Map<string, { table: PointTable; uses: number; hot: boolean }>();
  private hotKeys = 0;

  /**
   * @param capacity addresses remembered (least recently used dropped first)
   * @param windowSize precomputed window for a remembered key (4: 520 points, ~100 KB; 8: 4,224, ~1 MB)
   * @param hot how many keys may be moved to window 8 after 32 signatures (the busiest callers)
   */
  constructor(
    private readonly capacity = 128,
    private readonly windowSize = 4,
    private readonly hot = 0,
  ) {}

  /**
   * Remembers a known public key (uncompressed hex, as ethers' `SigningKey.publicKey`) and builds the
   * precomputed tables now, so the first check does not pay for them (a gateway's own key at startup).
   */
  addKey(publicKey: string): string {
    const address = computeAddress(publicKey);
    generatorTable ??= new PointTable(secp256k1.ProjectivePoint.BASE, 8);
    this.remember(address.toLowerCase(), secp256k1.ProjectivePoint.fromHex(publicKey.slice(2)), this.windowSize, false);
    return address;
  }

  recoversTo(digest: string, signature: string, address: string): boolean {
    let sig: Signature;
    try {
      sig = Signature.from(signature);
      // ethers refuses a non-canonical s (top bit set) when it is read, as recovery would.
      void sig.s;
    } catch {
      return false;
    }
    const key = address.toLowerCase();
    const known = this.keys.get(key);
    if (known) {
      const fast = this.fastCheck(known.table, digest, sig);
      if (fast === true) this.touch(key, known);
      if (fast !== null) return fast;
    }
    let publicKey: string;
    try {
      publicKey = SigningKey.recoverPublicKey(digest, sig);
    } catch {
      return false;
    }
    if (computeAddress(publicKey).toLowerCase() !== key) return false;
    if (!known) this.remember(key, secp256k1.ProjectivePoint.fromHex(publicKey.slice(2)), this.windowSize, false);
    return true;
  }

  private touch(key: string, entry: { table: PointTable; uses: number; hot: boolean }): void {
    entry.uses += 1;
    this.keys.delete(key);
    if (!entry.hot && this.windowSize < 8 && entry.uses >= 32 && this.hotKeys < this.hot) {
      this.remember(key, entry.table.point, 8, true);
      return;
    }
    this.keys.set(key, entry);
  }

  /** true/false, or null when the fast form does not apply (a zero scalar: let full recovery decide). */
  private fastCheck(table: PointTable, digest: string, sig: Signature): boolean | null {
    const r = BigInt(sig.r);
    const s = BigInt(sig.s);
    if (r <= 0n || r >= CURVE_N || s <= 0n || s >= CURVE_N) return false;
    const z = BigInt(digest) % CURVE_N;
    const sInv = modInverse(s, CURVE_N);
    const u1 = (z * sInv) % CURVE_N;
    const u2 = (r * sInv) % CURVE_N;
    if (u1 === 0n || u2 === 0n) return null;
    generatorTable ??= new PointTable(secp256k1.ProjectivePoint.BASE, 8);
    const sum = generatorTable.multiply(u1).add(table.multiply(u2));
    if (sum.equals(secp256k1.ProjectivePoint.ZERO)) return false;
    const { x, y } = sum.toAffine();
    return x === r && (y & 1n) === BigInt(sig.yParity);
  }

  private remember(key: string, point: CurvePoint, windowSize: number, hot: boolean): void {
    if (this.keys.size >= this.capacity) {
      const [oldest, entry] = this.keys.entries().next().value!;
      this.keys.delete(oldest);
      if (entry.hot) this.hotKeys -= 1;
    }
    this.keys.set(key, { table: new PointTable(point, windowSize), uses: 0, hot });
    if (hot) this.hotKeys += 1;
  }
}

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
  private readonly typed: GatewayTypedData;
  /** Gateway keys seen signing tickets (one or a few per client), with the widest precomputed window. */
  private readonly gatewayKeys = new SignatureChecker(8, 8);

  constructor(options: GatewayClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The gateway URL must be http(s)');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.domain = gatewayDomain(options.chainId, getAddress(options.dataAccess));
    this.typed = new GatewayTypedData(this.domain);
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
    return this.submitTicketRequest(await this.prepareTicketRequest(signer, options));
  }

  /**
   * The first half of requestTicket: a fresh challenge, signed by `signer` as an EIP-712 TicketRequest.
   * Valid until the challenge expires (CHALLENGE_TTL_SECONDS); submit it once.
   */
  async prepareTicketRequest(signer: Signer, options: TicketOptions): Promise<SignedTicketRequest> {
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
    // A local key signs the precomputed digest directly: the same (deterministic) signature signTypedData
    // gives, without rebuilding ethers' type encoder per request.
    const signature =
      signer instanceof BaseWallet
        ? signer.signingKey.sign(this.typed.ticketRequest(request)).serialized
        : await signer.signTypedData(this.domain, requestTypes, request);
    return { request, signature };
  }

  /** The second half of requestTicket: posts a signed request and checks the ticket that comes back. */
  async submitTicketRequest(signed: SignedTicketRequest): Promise<SignedTicket> {
    const { request } = signed;
    const reply = await this.json(signedTicketSchema, 'POST', paths.tickets(), signed);
    const { ticket } = reply;
    let digest: string | null;
    try {
      digest = this.typed.accessTicket(ticket);
    } catch {
      digest = null;
    }
    if (
      digest === null ||
      digest !== reply.ticketHash.toLowerCase() ||
      !this.gatewayKeys.recoversTo(digest, reply.signature, reply.gateway) ||
      getAddress(ticket.grantee) !== getAddress(request.requester) ||
      ticket.op !== request.op ||
      ticket.permitId !== request.permitId ||
      ticket.sbtId !== request.sbtId ||
      (request.datasetId !== '0' && ticket.datasetId !== request.datasetId)
    ) {
      throw badResponse('the ticket does not match the request or its signature');
    }
    return reply;
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

  /**
   * An identity's public FHE key bundle (public, no ticket), checked against the digest its token publishes
   * when `expectedDigest` is given (the caller reads it from IdentitySBT.fheKeyFingerprintOf).
   */
  async fetchIdentityKeys(sbtId: bigint | number | string, expectedDigest?: string): Promise<Uint8Array> {
    const res = await this.call('GET', paths.identityKeys(sbtId), {});
    const header = res.headers[HEADER.digest];
    const bytes = await readBody(res);
    const digest = sha256(bytes);
    if (typeof header !== 'string' || header !== digest) {
      throw badResponse(`the key bundle does not hash to its ${HEADER.digest} header`, res.statusCode);
    }
    if (expectedDigest !== undefined && `0x${digest}` !== expectedDigest.toLowerCase()) {
      throw badResponse('the key bundle does not hash to the published fingerprint', 200);
    }
    return bytes;
  }

  /** How the uses under a ticket stand: pending, recorded (with the transaction) or failed (with the reason). */
  useState(ticketHash: string): Promise<UseState> {
    return this.json(useStateSchema, 'GET', paths.uses(ticketHash));
  }
}
