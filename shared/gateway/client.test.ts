import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Signature, TypedDataEncoder, Wallet, recoverAddress } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, GatewayError, GatewayTypedData, SignatureChecker, TypedDataValueError } from './client';
import { ACCESS_TICKET_TYPES, TICKET_REQUEST_TYPES, UPLOAD_TYPES, gatewayDomain, type SignedTicket } from './protocol';

// The client's own checks, against a real HTTP server that answers what a broken or hostile gateway might:
// error bodies outside the protocol, bytes that do not match their digest, tickets that do not match.
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const good = randomBytes(1000);
const bad = randomBytes(1000);
let server: http.Server;
let client: GatewayClient;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-gw-client-'));
const ticket: SignedTicket = {
  ticket: {
    grantee: Wallet.createRandom().address,
    sbtId: '4',
    datasetId: '1',
    op: 1,
    permitId: '0',
    expiry: Math.floor(Date.now() / 1000) + 900,
    nonce: `0x${'11'.repeat(32)}`,
  },
  signature: `0x${'22'.repeat(65)}`,
  ticketHash: `0x${'33'.repeat(32)}`,
  gateway: Wallet.createRandom().address,
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url.endsWith(`/objects/${sha(good)}`)) {
      res.writeHead(200, { 'x-cos-digest': sha(good) });
      res.end(good);
    } else if (url.endsWith(`/objects/${sha(bad)}`)) {
      // Claims the right digest, sends other bytes.
      res.writeHead(200, { 'x-cos-digest': sha(bad) });
      res.end(good);
    } else if (url.endsWith('/manifest')) {
      res.writeHead(200, { 'x-cos-digest': sha(good) });
      res.end(good);
    } else if (url.includes('/uses/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ticketHash: 'nope', uses: [] }));
    } else if (url.endsWith('/challenges')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ nonce: `0x${'44'.repeat(32)}`, expiresAt: 1 }));
    } else if (url.endsWith('/tickets')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ticket));
    } else if (url.includes('/results/')) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ACCESS_DENIED', message: 'Access denied: Revoked' } }));
    } else {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>proxy error</html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new GatewayClient({
    baseUrl: `http://127.0.0.1:${port}`,
    chainId: 31337,
    dataAccess: '0x00000000000000000000000000000000000000aa',
    timeoutMs: 2_000,
  });
});

afterAll(async () => {
  client.close();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('gateway client checks', () => {
  it('passes the gateway error replies through, typed', async () => {
    const error = await failure(client.fetchResult({ ...ticket, ticket: { ...ticket.ticket, permitId: '9' } }));
    expect(error).toMatchObject({ status: 403, code: 'ACCESS_DENIED', message: 'Access denied: Revoked' });
    const other = await failure(client.fetchKeys(ticket));
    expect(other).toMatchObject({ status: 502, code: 'INTERNAL' });
    expect(other.message).toMatch(/Bad response/);
  });

  it('verifies downloaded bytes, in memory and to a file (removing a bad file)', async () => {
    expect(Buffer.from(await client.fetchObject(ticket, sha(good))).equals(good)).toBe(true);
    expect((await failure(client.fetchObject(ticket, sha(bad)))).message).toMatch(/do not hash/);
    const file = path.join(dir, 'object');
    await client.fetchObject(ticket, sha(good), { toFile: file });
    expect(existsSync(file)).toBe(true);
    await failure(client.fetchObject(ticket, sha(bad), { toFile: path.join(dir, 'bad') }));
    expect(readdirSync(dir)).toEqual(['object']);
  });

  it('refuses replies outside the protocol: a non-manifest, a malformed use state, a ticket that does not match', async () => {
    expect((await failure(client.fetchManifest(ticket))).message).toMatch(/manifest does not parse/);
    expect((await failure(client.useState(`0x${'55'.repeat(32)}`))).message).toMatch(/unexpected shape/);
    const forged = await failure(client.requestTicket(Wallet.createRandom(), { sbtId: 4, datasetId: 1, op: 1 }));
    expect(forged.message).toMatch(/does not match the request or its signature/);
  });

  it('reports an unreachable gateway as a GatewayError with status 0', async () => {
    const gone = new GatewayClient({ baseUrl: 'http://127.0.0.1:1', chainId: 1, dataAccess: ticket.gateway });
    expect(await failure(gone.challenge(ticket.gateway))).toMatchObject({ status: 0, code: 'INTERNAL' });
    gone.close();
  });
});

describe('EIP-712 digests', () => {
  const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;
  const uint = () => BigInt(hex(1 + (randomBytes(1)[0]! % 32))).toString();
  const mutable = <T extends Record<string, readonly { name: string; type: string }[]>>(types: T) =>
    Object.fromEntries(Object.entries(types).map(([name, fields]) => [name, [...fields]]));

  it('equal ethers TypedDataEncoder for every message type, over random values and domains', async () => {
    for (let i = 0; i < 25; i++) {
      const domain = gatewayDomain(BigInt(hex(1 + (i % 8))), Wallet.createRandom().address);
      const typed = new GatewayTypedData(domain);
      const request = {
        requester: Wallet.createRandom().address,
        sbtId: uint(),
        datasetId: i === 0 ? '0' : uint(),
        op: [1, 2, 4, 8][i % 4] as 1 | 2 | 4 | 8,
        permitId: i === 1 ? (2n ** 256n - 1n).toString() : uint(),
        nonce: hex(32),
      };
      expect(typed.ticketRequest(request)).toBe(TypedDataEncoder.hash(domain, mutable(TICKET_REQUEST_TYPES), request));
      if (i < 3) {
        // What prepareTicketRequest signs for a local key is what signTypedData signs.
        const wallet = Wallet.createRandom();
        expect(wallet.signingKey.sign(typed.ticketRequest(request)).serialized).toBe(
          await wallet.signTypedData(domain, mutable(TICKET_REQUEST_TYPES), request),
        );
      }
      const ticket = {
        grantee: request.requester,
        sbtId: request.sbtId,
        datasetId: request.datasetId,
        op: request.op,
        permitId: request.permitId,
        expiry: i === 2 ? Number.MAX_SAFE_INTEGER : Math.floor(Date.now() / 1000) + i,
        nonce: hex(32),
      };
      expect(typed.accessTicket(ticket)).toBe(TypedDataEncoder.hash(domain, mutable(ACCESS_TICKET_TYPES), ticket));
      const upload = { uploader: request.requester.toLowerCase(), digest: hex(32), size: i * 1000, expiry: 1 + i };
      expect(typed.upload(upload)).toBe(TypedDataEncoder.hash(domain, mutable(UPLOAD_TYPES), upload));
    }
  });

  it('refuse values EIP-712 cannot encode, as ethers does', () => {
    const domain = gatewayDomain(31337, '0x00000000000000000000000000000000000000aa');
    const typed = new GatewayTypedData(domain);
    const request = {
      requester: ticket.ticket.grantee,
      sbtId: (2n ** 256n).toString(),
      datasetId: '1',
      op: 1 as const,
      permitId: '0',
      nonce: ticket.ticket.nonce,
    };
    expect(() => typed.ticketRequest(request)).toThrow(TypedDataValueError);
    expect(() => TypedDataEncoder.hash(domain, mutable(TICKET_REQUEST_TYPES), request)).toThrow();
    expect(() => typed.ticketRequest({ ...request, sbtId: '1', nonce: '0x12' })).toThrow(TypedDataValueError);
  });
});

describe('SignatureChecker', () => {
  it('answers exactly what recoverAddress decides, first (recovered) and later (cached key) alike', () => {
    const checker = new SignatureChecker(2, 4);
    const signers = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
    for (let round = 0; round < 3; round++) {
      for (const wallet of signers) {
        const digest = `0x${randomBytes(32).toString('hex')}`;
        const sig = Signature.from(wallet.signingKey.sign(digest));
        const flippedV = Signature.from({ r: sig.r, s: sig.s, v: sig.v === 27 ? 28 : 27 }).serialized;
        const otherDigest = `0x${randomBytes(32).toString('hex')}`;
        const cases: [string, string, string][] = [
          [digest, sig.serialized, wallet.address],
          [digest, flippedV, wallet.address],
          [otherDigest, sig.serialized, wallet.address],
          [digest, sig.serialized, signers[(signers.indexOf(wallet) + 1) % 3]!.address],
          [digest, `0x${'00'.repeat(65)}`, wallet.address],
          [digest, `${sig.serialized.slice(0, 66)}${'ff'.repeat(32)}${sig.serialized.slice(130)}`, wallet.address],
          [digest, '0x1234', wallet.address],
        ];
        for (const [d, signature, address] of cases) {
          let expected: boolean;
          try {
            expected = recoverAddress(d, signature) === address;
          } catch {
            expected = false;
          }
          expect(checker.recoversTo(d, signature, address)).toBe(expected);
          expect(checker.recoversTo(d, signature, address.toLowerCase())).toBe(expected);
        }
        // The signature is valid and the key is remembered: the next check takes the cached-key path.
        expect(checker.recoversTo(digest, sig.serialized, wallet.address)).toBe(true);
      }
    }
  });

  it('checks against a key given up front as against a recovered one', () => {
    const wallet = Wallet.createRandom();
    const checker = new SignatureChecker(1, 8);
    expect(checker.addKey(wallet.signingKey.publicKey)).toBe(wallet.address);
    const digest = `0x${randomBytes(32).toString('hex')}`;
    const sig = Signature.from(wallet.signingKey.sign(digest));
    expect(checker.recoversTo(digest, sig.serialized, wallet.address)).toBe(true);
    const flipped = Signature.from({ r: sig.r, s: sig.s, v: sig.v === 27 ? 28 : 27 }).serialized;
    expect(checker.recoversTo(digest, flipped, wallet.address)).toBe(false);
    expect(checker.recoversTo(digest, sig.serialized, Wallet.createRandom().address)).toBe(false);
  });

  it('keeps answering exactly once a busy key moved to the wider window', () => {
    const checker = new SignatureChecker(4, 4, 1);
    const wallet = Wallet.createRandom();
    for (let i = 0; i < 40; i++) {
      const digest = `0x${randomBytes(32).toString('hex')}`;
      const sig = Signature.from(wallet.signingKey.sign(digest));
      expect(checker.recoversTo(digest, sig.serialized, wallet.address)).toBe(true);
      const flipped = Signature.from({ r: sig.r, s: sig.s, v: sig.v === 27 ? 28 : 27 }).serialized;
      expect(checker.recoversTo(digest, flipped, wallet.address)).toBe(false);
      expect(checker.recoversTo(`0x${randomBytes(32).toString('hex')}`, sig.serialized, wallet.address)).toBe(false);
    }
  });
});
