import { randomBytes } from 'node:crypto';
import { getAddress, type BaseWallet } from 'ethers';
import { GatewayTypedData, SignatureChecker } from '../../shared/gateway/client';
import {
  CHALLENGE_TTL_SECONDS,
  TICKET_SCHEME,
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

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** EIP-712 digest of an AccessTicket: the ticketCommitment recorded in Used. */
export function ticketDigest(domain: GatewayDomain, ticket: AccessTicket): string {
  return typedDataFor(domain).accessTicket(ticket);
}

const typedByDomain = new Map<string, GatewayTypedData>();
function typedDataFor(domain: GatewayDomain): GatewayTypedData {
  const key = `${domain.chainId}:${domain.verifyingContract.toLowerCase()}`;
  let typed = typedByDomain.get(key);
  if (!typed) {
    if (typedByDomain.size > 16) typedByDomain.clear();
    typed = new GatewayTypedData(domain);
    typedByDomain.set(key, typed);
  }
  return typed;
}

/**
 * Checks the signatures callers send (TicketRequest, Upload): each must recover to the address it claims.
 * Keys of recent signers are kept (bounded) so their next signature is verified, not recovered.
 */
export class SignedMessages {
  private readonly typed: GatewayTypedData;
  // 256 recent signers with a window-4 table (~130 KB each), the 16 busiest with window 8 (~1 MB each).
  private readonly checker = new SignatureChecker(256, 4, 16);

  constructor(domain: GatewayDomain) {
    this.typed = typedDataFor(domain);
  }

  /** Whether the TicketRequest's signature recovers to its `requester`. */
  ticketRequestSignedBy(request: TicketRequestMessage, signature: string, requester: string): boolean {
    return this.checker.recoversTo(this.typed.ticketRequest(request), signature, requester);
  }

  /** Whether the Upload's signature recovers to its `uploader` (false for a value EIP-712 cannot encode). */
  uploadSignedBy(upload: UploadMessage, signature: string, uploader: string): boolean {
    let digest: string;
    try {
      digest = this.typed.upload(upload);
    } catch {
      return false;
    }
    return this.checker.recoversTo(digest, signature, uploader);
  }
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
  private readonly typed: GatewayTypedData;
  /** Only this gateway's own key: verified with the widest precomputed window. */
  private readonly ownKey = new SignatureChecker(1, 8);

  constructor(
    private readonly wallet: BaseWallet,
    chainId: bigint | number,
    dataAccess: string,
  ) {
    this.domain = gatewayDomain(chainId, getAddress(dataAccess));
    this.address = wallet.address;
    this.typed = typedDataFor(this.domain);
    // Tables for checking tickets built at startup, not on the first serve (~30 ms).
    this.ownKey.addKey(wallet.signingKey.publicKey);
  }

  sign(fields: Omit<AccessTicket, 'nonce'>): SignedTicket {
    const ticket: AccessTicket = { ...fields, nonce: `0x${randomBytes(32).toString('hex')}` };
    const ticketHash = this.typed.accessTicket(ticket);
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
    let digest: string;
    try {
      digest = this.typed.accessTicket(signed.ticket);
    } catch {
      throw new HttpError('BAD_TICKET', 'The ticket is malformed');
    }
    if (digest !== signed.ticketHash.toLowerCase()) throw new HttpError('BAD_TICKET', 'The ticket hash does not match');
    if (
      getAddress(signed.gateway) !== this.address ||
      !this.ownKey.recoversTo(digest, signed.signature, this.address)
    ) {
      throw new HttpError('BAD_TICKET', 'The ticket was not signed by this gateway');
    }
    return { ...signed, ticketHash: digest };
  }

  prune(): void {
    const now = nowSeconds();
    for (const [header, signed] of this.verified) if (signed.ticket.expiry <= now) this.verified.delete(header);
  }
}
