import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, GatewayError } from './client';
import type { SignedTicket } from './protocol';

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
