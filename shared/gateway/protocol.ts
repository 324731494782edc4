import { z } from 'zod';

/**
 * The gateway's HTTP protocol, shared by the gateway (services/gateway), its client
 * (shared/gateway/client.ts), the orchestrator and the custodian core. One place for routes, the
 * EIP-712 types, header names, JSON bodies and error codes, so the three cannot drift.
 *
 * Authorization model
 * - A caller proves control of its address by signing an EIP-712 `TicketRequest` over a one-time
 *   server nonce (POST /v1/challenges). The gateway then checks the chain and signs an EIP-712
 *   `AccessTicket`, valid TICKET_TTL_SECONDS. Tickets are presented in the `authorization` header.
 * - Three kinds of ticket, told apart by (permitId, op):
 *   - grant access: permitId = 0, op one of READ, LIST, EXPORT; issued when DataAccess.canAccess holds
 *     for (sbtId, grantee, datasetId, op). Every serve under it is recorded on chain as Used.
 *   - compute input: permitId != 0, op = COMPUTE; for an attested orchestrator, while the permit has no
 *     result; serves the permit's dataset. The permit is the recorded run, so no Used.
 *   - result: permitId != 0, op = READ; for the dataset's owner or the grantee's holder, once the
 *     permit's result is posted; serves the object whose SHA-256 is the posted resultCommitment.
 * - Objects are content-addressed (SHA-256). A dataset's objects are the ones its manifest lists, and
 *   its manifest is the object whose SHA-256 is the on-chain manifestCommitment; its public FHE key
 *   bundle is the object whose SHA-256 is the on-chain fheKeyFingerprint. So what a ticket opens is
 *   anchored on chain, not in the gateway's own records.
 * - Uploads (PUT) carry an EIP-712 `Upload` signature of an attested steward (dataset objects, before
 *   or after registration) or orchestrator (results), or of any identity holder uploading exactly its own
 *   public FHE key bundle (the object whose SHA-256 its token publishes as fheKeyFingerprint).
 * - Public key bundles of identities are public: GET /v1/identities/:sbtId/keys needs no ticket.
 */

export const API_PREFIX = '/v1';
export const TICKET_TTL_SECONDS = 900;
export const CHALLENGE_TTL_SECONDS = 120;
/** An upload signature is valid this long after it was made (its `expiry` may not be further out). */
export const UPLOAD_SIGNATURE_MAX_SECONDS = 600;

export const HEADER = {
  /** `COS-Ticket <base64url(JSON SignedTicket)>` */
  authorization: 'authorization',
  /** base64url(JSON SignedUpload) on PUT /v1/objects/:digest */
  upload: 'x-cos-upload',
  /** SHA-256 hex of the served bytes, on every object response. */
  digest: 'x-cos-digest',
} as const;
export const TICKET_SCHEME = 'COS-Ticket';

export const ROUTES = {
  challenge: `POST ${API_PREFIX}/challenges`,
  ticket: `POST ${API_PREFIX}/tickets`,
  /** PUT /v1/objects/:digest (raw body, streamed). */
  upload: `PUT ${API_PREFIX}/objects/:digest`,
  /** GET /v1/datasets/:datasetId/manifest (op LIST, READ, EXPORT or COMPUTE). */
  manifest: `GET ${API_PREFIX}/datasets/:datasetId/manifest`,
  /** GET /v1/datasets/:datasetId/keys: the public FHE key bundle (op READ, EXPORT or COMPUTE). */
  keys: `GET ${API_PREFIX}/datasets/:datasetId/keys`,
  /** GET /v1/datasets/:datasetId/objects/:digest (op READ, EXPORT or COMPUTE). */
  object: `GET ${API_PREFIX}/datasets/:datasetId/objects/:digest`,
  /** GET /v1/results/:permitId (result ticket). */
  result: `GET ${API_PREFIX}/results/:permitId`,
  /** GET /v1/identities/:sbtId/keys: an identity's public FHE key bundle (public; no ticket). */
  identityKeys: `GET ${API_PREFIX}/identities/:sbtId/keys`,
  /** GET /v1/uses/:ticketHash: the recording state of the uses under a ticket. */
  uses: `GET ${API_PREFIX}/uses/:ticketHash`,
} as const;

export const paths = {
  challenges: () => `${API_PREFIX}/challenges`,
  tickets: () => `${API_PREFIX}/tickets`,
  upload: (digest: string) => `${API_PREFIX}/objects/${digest}`,
  manifest: (datasetId: bigint | string) => `${API_PREFIX}/datasets/${datasetId}/manifest`,
  keys: (datasetId: bigint | string) => `${API_PREFIX}/datasets/${datasetId}/keys`,
  object: (datasetId: bigint | string, digest: string) => `${API_PREFIX}/datasets/${datasetId}/objects/${digest}`,
  result: (permitId: bigint | string) => `${API_PREFIX}/results/${permitId}`,
  uses: (ticketHash: string) => `${API_PREFIX}/uses/${ticketHash}`,
  identityKeys: (sbtId: bigint | string | number) => `${API_PREFIX}/identities/${sbtId}/keys`,
} as const;

/** `resultURI` the orchestrator posts: `<gateway base URL>/v1/results/<permitId>` is where it is served. */
export function resultUri(gatewayUrl: string, permitId: bigint | string): string {
  return `${gatewayUrl.replace(/\/+$/, '')}${paths.result(permitId)}`;
}

/** EIP-712 domain: `{ name, version, chainId, verifyingContract: DataAccess }`. */
export const EIP712_DOMAIN_NAME = 'COS Gateway';
export const EIP712_DOMAIN_VERSION = '1';

export interface GatewayDomain {
  name: typeof EIP712_DOMAIN_NAME;
  version: typeof EIP712_DOMAIN_VERSION;
  chainId: bigint;
  verifyingContract: string;
}

export function gatewayDomain(chainId: bigint | number, dataAccess: string): GatewayDomain {
  return {
    name: EIP712_DOMAIN_NAME,
    version: EIP712_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: dataAccess,
  };
}

export const TICKET_REQUEST_TYPES = {
  TicketRequest: [
    { name: 'requester', type: 'address' },
    { name: 'sbtId', type: 'uint256' },
    { name: 'datasetId', type: 'uint256' },
    { name: 'op', type: 'uint8' },
    { name: 'permitId', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

export const ACCESS_TICKET_TYPES = {
  AccessTicket: [
    { name: 'grantee', type: 'address' },
    { name: 'sbtId', type: 'uint256' },
    { name: 'datasetId', type: 'uint256' },
    { name: 'op', type: 'uint8' },
    { name: 'permitId', type: 'uint256' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

export const UPLOAD_TYPES = {
  Upload: [
    { name: 'uploader', type: 'address' },
    { name: 'digest', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'expiry', type: 'uint64' },
  ],
} as const;

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed bytes32');
const uint = z.string().regex(/^(0|[1-9][0-9]{0,76})$/, 'a decimal uint');
const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature');
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');

/** Ticket ops: READ, LIST, EXPORT (grant access) and COMPUTE (orchestrator input). */
export const ticketOpSchema = z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]);

export const challengeRequestSchema = z.strictObject({ address });
export const challengeResponseSchema = z.strictObject({ nonce: bytes32, expiresAt: z.number().int() });

/** Numbers as decimal strings in JSON: uint256 does not fit a JS number. */
export const ticketRequestSchema = z.strictObject({
  requester: address,
  sbtId: uint,
  datasetId: uint,
  op: ticketOpSchema,
  permitId: uint,
  nonce: bytes32,
});
export type TicketRequestMessage = z.infer<typeof ticketRequestSchema>;

export const signedTicketRequestSchema = z.strictObject({ request: ticketRequestSchema, signature });
export type SignedTicketRequest = z.infer<typeof signedTicketRequestSchema>;

export const accessTicketSchema = z.strictObject({
  grantee: address,
  sbtId: uint,
  datasetId: uint,
  op: ticketOpSchema,
  permitId: uint,
  expiry: z.number().int().positive(),
  nonce: bytes32,
});
export type AccessTicket = z.infer<typeof accessTicketSchema>;

/** What POST /v1/tickets returns and what the authorization header carries. */
export const signedTicketSchema = z.strictObject({
  ticket: accessTicketSchema,
  signature,
  /** EIP-712 digest of the ticket: the ticketCommitment recorded in Used. */
  ticketHash: bytes32,
  /** The gateway account that signed it (attested GATEWAY on chain). */
  gateway: address,
});
export type SignedTicket = z.infer<typeof signedTicketSchema>;

export const uploadMessageSchema = z.strictObject({
  uploader: address,
  digest: bytes32,
  size: z.number().int().nonnegative(),
  expiry: z.number().int().positive(),
});
export type UploadMessage = z.infer<typeof uploadMessageSchema>;
export const signedUploadSchema = z.strictObject({ upload: uploadMessageSchema, signature });
export type SignedUpload = z.infer<typeof signedUploadSchema>;

export const uploadResponseSchema = z.strictObject({
  digest: sha256Hex,
  size: z.number().int().nonnegative(),
  /** false when the object was already stored (uploads are idempotent). */
  created: z.boolean(),
});

export const useStateSchema = z.strictObject({
  ticketHash: bytes32,
  uses: z.array(
    z.strictObject({
      objectDigest: bytes32,
      state: z.enum(['pending', 'recorded', 'failed']),
      txHash: bytes32.nullable(),
      error: z.string().nullable(),
    }),
  ),
});

/** Every error reply: HTTP status + `{ error: { code, message } }`. */
export const gatewayErrorCodes = [
  'BAD_REQUEST', // 400 malformed JSON, path, header or parameter
  'BAD_SIGNATURE', // 401 request or upload signature does not recover to the claimed address
  'BAD_TICKET', // 401 missing, malformed or forged ticket (wrong signer or domain)
  'TICKET_EXPIRED', // 401
  'WRONG_OP', // 403 the ticket's op does not allow this route
  'WRONG_DATASET', // 403 the ticket names another dataset or permit
  'ACCESS_DENIED', // 403 the chain says no (reason in message: Revoked, Expired, RunsExhausted, ...)
  'CHALLENGE_UNKNOWN', // 401 nonce unknown, used or expired
  'NOT_FOUND', // 404 object, dataset, permit or result not there
  'TOO_LARGE', // 413 upload over the size limit
  'DIGEST_MISMATCH', // 422 uploaded bytes do not hash to the path's digest / declared size
  'RATE_LIMITED', // 429
  'CHAIN_UNAVAILABLE', // 503 the chain could not be asked; nothing was served
  'INTERNAL', // 500
] as const;
export type GatewayErrorCode = (typeof gatewayErrorCodes)[number];
export const gatewayErrorSchema = z.strictObject({
  error: z.strictObject({ code: z.enum(gatewayErrorCodes), message: z.string() }),
});

export function encodeHeaderJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeHeaderJson(value: string): unknown {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
}

export function ticketAuthorization(ticket: SignedTicket): string {
  return `${TICKET_SCHEME} ${encodeHeaderJson(ticket)}`;
}
