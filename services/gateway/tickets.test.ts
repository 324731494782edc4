import { Wallet } from 'ethers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OP } from '../../shared/contracts';
import { CHALLENGE_TTL_SECONDS, ticketAuthorization } from '../../shared/gateway/protocol';
import { ChallengeStore, TicketAuthority, ticketDigest } from './tickets';

const DATA_ACCESS = '0x00000000000000000000000000000000000000aa';
const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

afterEach(() => vi.useRealTimers());

describe('challenges', () => {
  it('are one-time, bound to their address, and expire', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ChallengeStore();
    const { nonce, expiresAt } = store.issue(ADDRESS);
    expect(expiresAt - Math.floor(Date.now() / 1000)).toBe(CHALLENGE_TTL_SECONDS);
    expect(() => store.consume(nonce, Wallet.createRandom().address)).toThrow(/Unknown/);
    store.consume(nonce, ADDRESS.toLowerCase());
    expect(() => store.consume(nonce, ADDRESS)).toThrow(/Unknown or already used/);

    const late = store.issue(ADDRESS);
    vi.setSystemTime(Date.now() + (CHALLENGE_TTL_SECONDS + 1) * 1000);
    expect(() => store.consume(late.nonce, ADDRESS)).toThrow(/expired/);
  });

  it('are bounded in number', () => {
    const store = new ChallengeStore(2);
    store.issue(ADDRESS);
    store.issue(ADDRESS);
    expect(() => store.issue(ADDRESS)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', status: 429 }));
  });
});

describe('tickets', () => {
  const gateway = Wallet.createRandom();
  const authority = new TicketAuthority(gateway, 31337n, DATA_ACCESS);
  const fields = {
    grantee: ADDRESS,
    sbtId: '4',
    datasetId: '1',
    op: OP.READ,
    permitId: '0',
    expiry: Math.floor(Date.now() / 1000) + 900,
  };

  it('verifies what it signed, with the EIP-712 digest as ticketHash', () => {
    const signed = authority.sign(fields);
    expect(signed.gateway).toBe(gateway.address);
    expect(signed.ticketHash).toBe(ticketDigest(authority.domain, signed.ticket));
    expect(authority.verify(ticketAuthorization(signed))).toEqual(signed);
  });

  it('refuses other signers, other domains, altered fields, garbage and expired tickets', () => {
    const signed = authority.sign(fields);
    const other = new TicketAuthority(Wallet.createRandom(), 31337n, DATA_ACCESS).sign(fields);
    expect(() => authority.verify(ticketAuthorization(other))).toThrow(expect.objectContaining({ code: 'BAD_TICKET' }));
    const otherChain = new TicketAuthority(gateway, 1n, DATA_ACCESS).sign(fields);
    expect(() => authority.verify(ticketAuthorization(otherChain))).toThrow(
      expect.objectContaining({ code: 'BAD_TICKET' }),
    );
    const altered = { ...signed, ticket: { ...signed.ticket, op: OP.EXPORT as 4 } };
    expect(() => authority.verify(ticketAuthorization(altered))).toThrow(
      expect.objectContaining({ code: 'BAD_TICKET' }),
    );
    const rehashed = { ...altered, ticketHash: ticketDigest(authority.domain, altered.ticket) };
    expect(() => authority.verify(ticketAuthorization(rehashed))).toThrow(/not signed by this gateway/);
    for (const header of [undefined, '', 'Bearer x', 'COS-Ticket !!!', 'COS-Ticket e30']) {
      expect(() => authority.verify(header)).toThrow(expect.objectContaining({ code: 'BAD_TICKET', status: 401 }));
    }
    const expired = authority.sign({ ...fields, expiry: Math.floor(Date.now() / 1000) - 1 });
    expect(() => authority.verify(ticketAuthorization(expired))).toThrow(
      expect.objectContaining({ code: 'TICKET_EXPIRED' }),
    );
    // A ticket verified once still expires.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 901_000);
    expect(() => authority.verify(ticketAuthorization(signed))).toThrow(
      expect.objectContaining({ code: 'TICKET_EXPIRED' }),
    );
  });
});
