import { randomBytes } from 'node:crypto';
import { Signature, TypedDataEncoder, getAddress, recoverAddress, type BaseWallet } from 'ethers';
import {
  ACCESS_TICKET_TYPES,
  CHALLENGE_TTL_SECONDS,
  TICKET_REQUEST_TYPES,
  TICKET_SCHEME,
  UPLOAD_TYPES,
  decodeHeaderJson,
  gatewayDomain,
  signedTicketSchema,
  type AccessTicket,
  type GatewayDomain,
  type SignedTicket,
  type TicketRequestMessage,
  type UploadMessage,
} from '../../shared/gateway/protocol';
import { HttpError } from './errors';

// ethers wants mutable field lists; the protocol's are `as const`.
const requestTypes = { TicketRequest: [...TICKET_REQUEST_TYPES.TicketRequest] };
const ticketTypes = { AccessTicket: [...ACCESS_TICKET_TYPES.AccessTicket] };
const uploadTypes = { Upload: [...UPLOAD_TYPES.Upload] };

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** EIP-712 digest of an AccessTicket: the ticketCommitment recorded in Used. */
export function ticketDigest(domain: GatewayDomain, ticket: AccessTicket): string {
  return TypedDataEncoder.hash(domain, ticketTypes, ticket);
}

function recover(digest: string, signature: string): string | null {
  try {
    return recoverAddress(digest, Signature.from(signature));
  } catch {
    return null;
  }
}

/** The address that signed a TicketRequest, or null when the signature does not parse. */
export function ticketRequestSigner(
  domain: GatewayDomain,
  request: TicketRequestMessage,
  signature: string,
): string | null {
  return recover(TypedDataEncoder.hash(domain, requestTypes, request), signature);
}

export function uploadSigner(domain: GatewayDomain, upload: UploadMessage, signature: string): string | null {
  return recover(TypedDataEncoder.hash(domain, uploadTypes, upload), signature);
}

/** One-time nonces bound to an address, valid CHALLENGE_TTL_SECONDS; bounded in number. */
export class ChallengeStore {
  private readonly challenges = new Map<string, { address: string; expiresAt: number }>();

  constructor(private readonly maxOutstanding = 100_000) {}

  issue(address: string): { nonce: string; expiresAt: number } {
    if (this.challenges.size >= this.maxOutstanding) this.prune();
    if (this.challenges.size >= this.maxOutstanding) {
      throw new HttpError('RATE_LIMITED', 'Too many outstanding challenges; try again shortly');
    }
    const nonce = `0x${randomBytes(32).toString('hex')}`;
    const expiresAt = nowSeconds() + CHALLENGE_TTL_SECONDS;
    this.challenges.set(nonce, { address: address.toLowerCase(), expiresAt });
    return { nonce, expiresAt };
  }

  /** Uses up `nonce` for `address`; CHALLENGE_UNKNOWN when unknown, used, expired or another address's. */
  consume(nonce: string, address: string): void {
    const key = nonce.toLowerCase();
    const entry = this.challenges.get(key);
    if (!entry || entry.address !== address.toLowerCase()) {
      throw new HttpError('CHALLENGE_UNKNOWN', 'Unknown or already used challenge nonce');
    }
    this.challenges.delete(key);
    if (entry.expiresAt <= nowSeconds()) throw new HttpError('CHALLENGE_UNKNOWN', 'The challenge expired');
  }

  prune(): void {
    const now = nowSeconds();
    for (const [nonce, entry] of this.challenges) if (entry.expiresAt <= now) this.challenges.delete(nonce);
  }

  get size(): number {
    return this.challenges.size;
  }
}

/** Signs and verifies AccessTickets with the gateway's key; verified headers are remembered until expiry. */
export class TicketAuthority {
  readonly domain: GatewayDomain;
  readonly address: string;
  private readonly verified = new Map<string, SignedTicket>();

  constructor(
    private readonly wallet: BaseWallet,
    chainId: bigint | number,
    dataAccess: string,
  ) {
    this.domain = gatewayDomain(chainId, getAddress(dataAccess));
    this.address = wallet.address;
  }

  sign(fields: Omit<AccessTicket, 'nonce'>): SignedTicket {
    const ticket: AccessTicket = { ...fields, nonce: `0x${randomBytes(32).toString('hex')}` };
    const ticketHash = ticketDigest(this.domain, ticket);
    const signature = this.wallet.signingKey.sign(ticketHash).serialized;
    return { ticket, signature, ticketHash, gateway: this.address };
  }

  /**
   * Parses and checks an `authorization` header: `COS-Ticket <base64url JSON>`, signed by this gateway
   * in this domain (BAD_TICKET otherwise), not expired (TICKET_EXPIRED).
   */
  verify(header: string | undefined): SignedTicket {
    if (!header) throw new HttpError('BAD_TICKET', 'Missing authorization ticket');
    let signed = this.verified.get(header);
    if (!signed) {
      signed = this.check(header);
      if (this.verified.size >= 20_000) this.prune();
      if (this.verified.size >= 20_000) this.verified.clear();
      this.verified.set(header, signed);
    }
    if (signed.ticket.expiry <= nowSeconds()) throw new HttpError('TICKET_EXPIRED', 'The ticket expired');
    return signed;
  }

  private check(header: string): SignedTicket {
    const prefix = `${TICKET_SCHEME} `;
    if (!header.startsWith(prefix) || header.length > 8_192) {
      throw new HttpError('BAD_TICKET', `The authorization header must be "${TICKET_SCHEME} <ticket>"`);
    }
    let raw: unknown;
    try {
      raw = decodeHeaderJson(header.slice(prefix.length));
    } catch {
      throw new HttpError('BAD_TICKET', 'The ticket is not base64url JSON');
    }
    const parsed = signedTicketSchema.safeParse(raw);
    if (!parsed.success) throw new HttpError('BAD_TICKET', 'The ticket is malformed');
    const signed = parsed.data;
    const digest = ticketDigest(this.domain, signed.ticket);
    if (digest !== signed.ticketHash.toLowerCase()) throw new HttpError('BAD_TICKET', 'The ticket hash does not match');
    const signer = recover(digest, signed.signature);
    if (!signer || signer !== this.address || getAddress(signed.gateway) !== this.address) {
      throw new HttpError('BAD_TICKET', 'The ticket was not signed by this gateway');
    }
    return { ...signed, ticketHash: digest };
  }

  prune(): void {
    const now = nowSeconds();
    for (const [header, signed] of this.verified) if (signed.ticket.expiry <= now) this.verified.delete(header);
  }
}
