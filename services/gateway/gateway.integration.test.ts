import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Wallet, id } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALGORITHMS, GrantStatus, decodeCosEvent } from '../../shared/contracts';
import { GatewayClient, GatewayError, type UseState } from '../../shared/gateway/client';
import {
  ACCESS_TICKET_TYPES,
  TICKET_REQUEST_TYPES,
  UPLOAD_TYPES,
  encodeHeaderJson,
  gatewayDomain,
  paths,
  ticketAuthorization,
  type SignedTicket,
} from '../../shared/gateway/protocol';
import {
  GATEWAY_KEY,
  OP,
  PURPOSE,
  buildDataset,
  mined,
  registerAndGrant,
  sha256,
  startGatewayProcess,
  startTestChain,
  type GatewayProcess,
  type TestChain,
} from './test-fixture';

const MAX_OBJECT_BYTES = 1024 * 1024;

let chain: TestChain;
let gateway: GatewayProcess;
let client: GatewayClient;
let dataDir: string;
const data = buildDataset(3);
let datasetId: bigint;
let grantId: bigint;
let labSbt: bigint;

async function expectGatewayError(promise: Promise<unknown>, code: string, status?: number): Promise<GatewayError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe(code);
  if (status !== undefined) expect((error as GatewayError).status).toBe(status);
  return error as GatewayError;
}

async function usedEvents(): Promise<
  { ticketCommitment: string; objectDigest: string; grantId: bigint; runIndex: bigint }[]
> {
  const logs = await chain.provider.getLogs({ address: chain.contracts.DataAccess, fromBlock: 0, toBlock: 'latest' });
  const out = [];
  for (const log of logs) {
    const event = decodeCosEvent(chain.contracts, log);
    if (event?.contract === 'DataAccess' && event.name === 'Used') out.push(event.args);
  }
  return out;
}

async function runsUsed(): Promise<bigint> {
  return (await chain.as('lab').DataAccess.getGrant(grantId)).runsUsed;
}

async function waitRecorded(c: GatewayClient, ticketHash: string, count: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await c.useState(ticketHash);
    if (state.uses.length === count && state.uses.every((use) => use.state === 'recorded')) return state;
    if (Date.now() > deadline) throw new Error(`uses not recorded: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A raw HTTP request (for malformed input the client would never send). */
function raw(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  chain = await startTestChain();
  dataDir = mkdtempSync(path.join(chain.dir, 'gw-'));
  gateway = await startGatewayProcess(chain, dataDir, { COS_GATEWAY_MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) });
  client = new GatewayClient({ baseUrl: gateway.url, chainId: chain.chainId, dataAccess: chain.contracts.DataAccess });
  labSbt = await chain.as('lab').IdentitySBT.sbtOf(await chain.signers.lab.getAddress());
});

afterAll(async () => {
  client?.close();
  await gateway?.stop();
  await chain?.stop();
});

describe('gateway (real anvil, real process)', () => {
  it('answers /health with its attested account', async () => {
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: 'ok',
      ready: true,
      attested: true,
      gateway: new Wallet(GATEWAY_KEY).address,
    });
    expect(JSON.stringify(health)).not.toContain(GATEWAY_KEY.slice(2));
  });

  it('stores uploads of an attested steward, idempotently, and refuses the rest', async () => {
    const steward = chain.signers.steward;
    const first = await client.upload(steward, data.manifestBytes);
    expect(first).toEqual({ digest: sha256(data.manifestBytes), size: data.manifestBytes.length, created: true });
    expect((await client.upload(steward, data.manifestBytes)).created).toBe(false);
    await client.upload(steward, data.keys);
    for (const object of data.objects) await client.upload(steward, object);

    // Not a steward or orchestrator.
    await expectGatewayError(client.upload(chain.signers.lab, randomBytes(100)), 'ACCESS_DENIED', 403);
    // Over the size limit.
    await expectGatewayError(client.upload(steward, Buffer.alloc(MAX_OBJECT_BYTES + 1, 7)), 'TOO_LARGE', 413);

    // Bytes that do not hash to the signed digest: refused, nothing stored.
    const claimed = randomBytes(500);
    const sent = randomBytes(500);
    const digest = sha256(claimed);
    const uploader = await steward.getAddress();
    const upload = { uploader, digest: `0x${digest}`, size: 500, expiry: Math.floor(Date.now() / 1000) + 300 };
    const domain = gatewayDomain(chain.chainId, chain.contracts.DataAccess);
    const signature = await steward.signTypedData(domain, { Upload: [...UPLOAD_TYPES.Upload] }, upload);
    const reply = await raw(
      `${gateway.url}${paths.upload(digest)}`,
      'PUT',
      {
        'content-length': 500,
        'x-cos-upload': encodeHeaderJson({ upload, signature }),
      },
      sent,
    );
    expect(reply.status).toBe(422);
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'DIGEST_MISMATCH' } });
    expect(existsSync(path.join(dataDir, 'store', 'objects', digest.slice(0, 2), digest))).toBe(false);
    expect(readdirSync(path.join(dataDir, 'store', 'tmp'))).toEqual([]);

    // A signature of someone else than the named uploader; a malformed header.
    const forged = await chain.signers.outsider.signTypedData(
      domain,
      { Upload: [...UPLOAD_TYPES.Upload] },
      {
        ...upload,
        digest: `0x${sha256(sent)}`,
      },
    );
    const forgedReply = await raw(
      `${gateway.url}${paths.upload(sha256(sent))}`,
      'PUT',
      {
        'content-length': 500,
        'x-cos-upload': encodeHeaderJson({ upload: { ...upload, digest: `0x${sha256(sent)}` }, signature: forged }),
      },
      sent,
    );
    expect(JSON.parse(forgedReply.body)).toMatchObject({ error: { code: 'BAD_SIGNATURE' } });
    const malformed = await raw(`${gateway.url}${paths.upload(digest)}`, 'PUT', { 'x-cos-upload': 'e30' }, sent);
    expect(malformed.status).toBe(400);
  });

  it('issues grant tickets only when the chain allows them', async () => {
    ({ datasetId, grantId } = await registerAndGrant(chain, data, {
      opMask: OP.READ | OP.LIST | OP.COMPUTE,
      maxRuns: 20,
      epsilonCap: 3_000_000,
    }));
    const lab = chain.signers.lab;
    const ticket = await client.requestTicket(lab, { sbtId: labSbt, datasetId, op: OP.READ });
    expect(ticket.ticket).toMatchObject({
      grantee: await lab.getAddress(),
      sbtId: String(labSbt),
      op: OP.READ,
      permitId: '0',
    });
    const ttl = ticket.ticket.expiry - Math.floor(Date.now() / 1000);
    expect(ttl).toBeGreaterThan(890);
    expect(ttl).toBeLessThanOrEqual(900);

    // No grant for this account; an op not granted; COMPUTE without a permit.
    const outsiderSbt = await chain.as('outsider').IdentitySBT.sbtOf(await chain.signers.outsider.getAddress());
    const noGrant = await expectGatewayError(
      client.requestTicket(chain.signers.outsider, { sbtId: outsiderSbt, datasetId, op: OP.READ }),
      'ACCESS_DENIED',
      403,
    );
    expect(noGrant.message).toMatch(/UnknownGrant/);
    expect(
      (
        await expectGatewayError(
          client.requestTicket(lab, { sbtId: labSbt, datasetId, op: OP.EXPORT }),
          'ACCESS_DENIED',
        )
      ).message,
    ).toMatch(/OpNotGranted/);
    await expectGatewayError(client.requestTicket(lab, { sbtId: labSbt, datasetId, op: OP.COMPUTE }), 'WRONG_OP', 403);

    // Bad signature, unknown nonce, used nonce.
    const labAddress = await lab.getAddress();
    const domain = gatewayDomain(chain.chainId, chain.contracts.DataAccess);
    const types = { TicketRequest: [...TICKET_REQUEST_TYPES.TicketRequest] };
    const { nonce } = await client.challenge(labAddress);
    const request = {
      requester: labAddress,
      sbtId: String(labSbt),
      datasetId: String(datasetId),
      op: OP.READ,
      permitId: '0',
      nonce,
    };
    const post = (body: unknown) =>
      raw(
        `${gateway.url}${paths.tickets()}`,
        'POST',
        { 'content-type': 'application/json' },
        Buffer.from(JSON.stringify(body)),
      );
    const wrongSigner = await chain.signers.outsider.signTypedData(domain, types, request);
    expect(JSON.parse((await post({ request, signature: wrongSigner })).body).error.code).toBe('BAD_SIGNATURE');
    const signature = await lab.signTypedData(domain, types, request);
    expect((await post({ request, signature })).status).toBe(200);
    const replay = await post({ request, signature });
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.body).error.code).toBe('CHALLENGE_UNKNOWN');
    const unknown = { ...request, nonce: id('never issued') };
    const unknownReply = await post({ request: unknown, signature: await lab.signTypedData(domain, types, unknown) });
    expect(JSON.parse(unknownReply.body).error.code).toBe('CHALLENGE_UNKNOWN');
    // Malformed and oversized bodies.
    expect((await post({ request: { ...request, op: 3 }, signature })).status).toBe(400);
    const bad = await raw(`${gateway.url}${paths.tickets()}`, 'POST', {}, Buffer.from('{not json'));
    expect(JSON.parse(bad.body).error.code).toBe('BAD_REQUEST');
    const big = await raw(`${gateway.url}${paths.tickets()}`, 'POST', {}, Buffer.alloc(64 * 1024, 32));
    expect(big.status).toBe(413);
  });

  it('serves against a valid ticket and records each (ticket, object) once as Used', async () => {
    const before = await runsUsed();
    const ticket = await client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.READ });
    const { bytes, manifest } = await client.fetchManifest(ticket);
    expect(Buffer.from(bytes).equals(data.manifestBytes)).toBe(true);
    expect(manifest.objects.map((object) => object.digest)).toEqual(data.objects.map(sha256));
    const object = data.objects[1]!;
    const fetched = await client.fetchObject(ticket, sha256(object));
    expect(Buffer.from(fetched).equals(object)).toBe(true);
    const file = path.join(chain.dir, 'object.bin');
    await client.fetchObject(ticket, sha256(object), { toFile: file });
    expect(existsSync(file)).toBe(true);
    expect(Buffer.from(await client.fetchKeys(ticket)).equals(data.keys)).toBe(true);

    const state = await waitRecorded(client, ticket.ticketHash, 3);
    const digests = state.uses.map((use) => use.objectDigest).sort();
    expect(digests).toEqual([data.manifestBytes, object, data.keys].map((b) => `0x${sha256(b)}`).sort());
    const events = (await usedEvents()).filter((event) => event.ticketCommitment === ticket.ticketHash);
    expect(events.map((event) => event.objectDigest).sort()).toEqual(digests);
    expect(events.every((event) => event.grantId === grantId)).toBe(true);
    expect(await runsUsed()).toBe(before + 3n);
  });

  it('refuses forged, expired, wrong-op and wrong-dataset tickets and unlisted objects, recording nothing', async () => {
    const ticket = await client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.READ });
    const usesBefore = (await usedEvents()).length;
    const runsBefore = await runsUsed();
    const digest = sha256(data.objects[0]!);
    const domain = gatewayDomain(chain.chainId, chain.contracts.DataAccess);
    const ticketTypes = { AccessTicket: [...ACCESS_TICKET_TYPES.AccessTicket] };
    const { TypedDataEncoder } = await import('ethers');
    const resign = (key: string, fields: Partial<SignedTicket['ticket']>): SignedTicket => {
      const wallet = new Wallet(key);
      const t = { ...ticket.ticket, ...fields };
      const hash = TypedDataEncoder.hash(domain, ticketTypes, t);
      return {
        ticket: t,
        ticketHash: hash,
        signature: wallet.signingKey.sign(hash).serialized,
        gateway: new Wallet(GATEWAY_KEY).address,
      };
    };
    const other = Wallet.createRandom().privateKey;
    await expectGatewayError(client.fetchObject(resign(other, {}), digest), 'BAD_TICKET', 401);
    // A longer expiry with the original signature: the hash no longer matches.
    await expectGatewayError(
      client.fetchObject({ ...ticket, ticket: { ...ticket.ticket, expiry: ticket.ticket.expiry + 3600 } }, digest),
      'BAD_TICKET',
    );
    await expectGatewayError(
      client.fetchObject(resign(GATEWAY_KEY, { expiry: Math.floor(Date.now() / 1000) - 1 }), digest),
      'TICKET_EXPIRED',
      401,
    );
    const list = await client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.LIST });
    await expectGatewayError(client.fetchObject(list, digest), 'WRONG_OP', 403);
    await expectGatewayError(client.fetchKeys(list), 'WRONG_OP', 403);
    // A genuine ticket naming a dataset the lab has no grant on: the chain says no.
    await expectGatewayError(
      client.fetchObject(resign(GATEWAY_KEY, { datasetId: String(datasetId + 5n) }), digest),
      'ACCESS_DENIED',
    );
    const wrongRoute = await raw(`${gateway.url}${paths.object(datasetId + 1n, digest)}`, 'GET', {
      authorization: ticketAuthorization(ticket),
    });
    expect(JSON.parse(wrongRoute.body).error.code).toBe('WRONG_DATASET');
    // Stored, but not in this dataset's manifest.
    const stray = randomBytes(300);
    await client.upload(chain.signers.steward, stray);
    await expectGatewayError(client.fetchObject(ticket, sha256(stray)), 'NOT_FOUND', 404);
    const noHeader = await raw(`${gateway.url}${paths.object(datasetId, digest)}`, 'GET', {});
    expect(JSON.parse(noHeader.body).error.code).toBe('BAD_TICKET');
    const garbage = await raw(`${gateway.url}${paths.object(datasetId, digest)}`, 'GET', {
      authorization: 'COS-Ticket ####',
    });
    expect(JSON.parse(garbage.body).error.code).toBe('BAD_TICKET');

    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await usedEvents()).length).toBe(usesBefore);
    expect(await runsUsed()).toBe(runsBefore);
    expect((await client.useState(ticket.ticketHash)).uses).toEqual([]);
  });

  it('records uses exactly once across a kill -9 with uses in the outbox', async () => {
    const ticket = await client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.READ });
    const runsBefore = await runsUsed();
    await chain.rpc('evm_setAutomine', [false]);
    try {
      await client.fetchObject(ticket, sha256(data.objects[0]!));
      await client.fetchObject(ticket, sha256(data.objects[1]!));
      // The first batch is signed, stored and broadcast; it waits for a block that does not come.
      const deadline = Date.now() + 10_000;
      while (!(await client.useState(ticket.ticketHash)).uses.every((use) => use.txHash !== null)) {
        if (Date.now() > deadline) throw new Error('batch not sent');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A third use stays pending behind it.
      await client.fetchObject(ticket, sha256(data.objects[2]!));
      const states = (await client.useState(ticket.ticketHash)).uses;
      expect(states.filter((use) => use.txHash === null)).toHaveLength(1);
      await gateway.kill9();
    } finally {
      await chain.rpc('evm_setAutomine', [true]);
    }
    client.close();
    gateway = await startGatewayProcess(chain, dataDir, { COS_GATEWAY_MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) });
    client = new GatewayClient({
      baseUrl: gateway.url,
      chainId: chain.chainId,
      dataAccess: chain.contracts.DataAccess,
    });
    // Anvil keeps the broadcast transaction; with automine back on it may already be mined.
    await chain.rpc('evm_mine');
    await waitRecorded(client, ticket.ticketHash, 3);
    const events = (await usedEvents()).filter((event) => event.ticketCommitment === ticket.ticketHash);
    expect(events).toHaveLength(3);
    expect(new Set(events.map((event) => event.objectDigest)).size).toBe(3);
    expect(await runsUsed()).toBe(runsBefore + 3n);
  });

  it('issues compute tickets to orchestrators and result tickets to the owner and the grantee', async () => {
    const lab = chain.as('lab').DataAccess;
    await mined(lab.issueJobPermit(grantId, ALGORITHMS.ALLELE_COUNTS.id, PURPOSE, 1_000_000, 10n ** 9n, id('params')));
    const permitId = await lab.permitCount();
    const runsBefore = await runsUsed();
    const orchestrator = chain.signers.orchestrator;
    const orchestratorSbt = await chain.as('orchestrator').IdentitySBT.sbtOf(await orchestrator.getAddress());
    const compute = await client.requestTicket(orchestrator, {
      sbtId: orchestratorSbt,
      datasetId,
      op: OP.COMPUTE,
      permitId,
    });
    expect(compute.ticket.permitId).toBe(String(permitId));
    expect(Buffer.from((await client.fetchManifest(compute)).bytes).equals(data.manifestBytes)).toBe(true);
    expect(Buffer.from(await client.fetchObject(compute, sha256(data.objects[2]!))).equals(data.objects[2]!)).toBe(
      true,
    );
    expect(Buffer.from(await client.fetchKeys(compute)).equals(data.keys)).toBe(true);
    // Not an orchestrator; a result ticket before the result.
    await expectGatewayError(
      client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.COMPUTE, permitId }),
      'ACCESS_DENIED',
    );
    await expectGatewayError(
      client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.READ, permitId }),
      'NOT_FOUND',
    );

    const result = randomBytes(5000);
    await client.upload(orchestrator, result);
    await mined(
      chain
        .as('orchestrator')
        .DataAccess.postJobResult(permitId, `0x${sha256(result)}`, `${gateway.url}/v1/results/${permitId}`),
    );
    const stewardSbt = await chain.as('steward').IdentitySBT.sbtOf(await chain.signers.steward.getAddress());
    const ownerTicket = await client.requestTicket(chain.signers.steward, {
      sbtId: stewardSbt,
      datasetId: 0,
      op: OP.READ,
      permitId,
    });
    expect(Buffer.from(await client.fetchResult(ownerTicket, `0x${sha256(result)}`)).equals(result)).toBe(true);
    const labTicket = await client.requestTicket(chain.signers.lab, {
      sbtId: labSbt,
      datasetId,
      op: OP.READ,
      permitId,
    });
    expect(Buffer.from(await client.fetchResult(labTicket)).equals(result)).toBe(true);
    await expectGatewayError(client.fetchResult(labTicket, `0x${sha256(randomBytes(4))}`), 'INTERNAL');
    const outsiderSbt = await chain.as('outsider').IdentitySBT.sbtOf(await chain.signers.outsider.getAddress());
    await expectGatewayError(
      client.requestTicket(chain.signers.outsider, { sbtId: outsiderSbt, datasetId, op: OP.READ, permitId }),
      'ACCESS_DENIED',
    );
    // A result ticket opens no dataset object; the finished job's compute ticket stops working.
    await expectGatewayError(client.fetchObject(labTicket, sha256(data.objects[0]!)), 'WRONG_OP');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expectGatewayError(client.fetchObject(compute, sha256(data.objects[0]!)), 'ACCESS_DENIED');
    await expectGatewayError(
      client.requestTicket(orchestrator, { sbtId: orchestratorSbt, datasetId, op: OP.COMPUTE, permitId }),
      'ACCESS_DENIED',
    );
    // No Used for compute or result serves.
    expect(
      (await usedEvents()).filter((event) =>
        [compute.ticketHash, ownerTicket.ticketHash, labTicket.ticketHash].includes(event.ticketCommitment),
      ),
    ).toEqual([]);
    expect(await runsUsed()).toBe(runsBefore);
  });

  it("counts uses not yet on chain against the grant's runs", async () => {
    const small = await registerAndGrant(chain, data, { opMask: OP.READ, maxRuns: 2 });
    const ticket = await client.requestTicket(chain.signers.lab, {
      sbtId: labSbt,
      datasetId: small.datasetId,
      op: OP.READ,
    });
    await chain.rpc('evm_setAutomine', [false]);
    try {
      await client.fetchObject(ticket, sha256(data.objects[0]!));
      await client.fetchObject(ticket, sha256(data.objects[1]!));
      // Serving the same (ticket, object) again needs no new run.
      await client.fetchObject(ticket, sha256(data.objects[1]!));
      const refused = await expectGatewayError(client.fetchObject(ticket, sha256(data.objects[2]!)), 'ACCESS_DENIED');
      expect(refused.message).toMatch(/RunsExhausted/);
      expect((await chain.as('lab').DataAccess.getGrant(small.grantId)).runsUsed).toBe(0n);
    } finally {
      await chain.rpc('evm_setAutomine', [true]);
    }
    await waitRecorded(client, ticket.ticketHash, 2);
    expect((await chain.as('lab').DataAccess.getGrant(small.grantId)).runsUsed).toBe(2n);
  });

  it('counts uses recorded after a cached grant state was read against its runs', async () => {
    // A gateway that keeps positive chain answers 5 s: the grant state read at ticket time still says
    // runsUsed 0 after two uses landed on chain, yet the fourth serve must be refused.
    const cached = await startGatewayProcess(chain, mkdtempSync(path.join(chain.dir, 'gw-cached-')), {
      COS_GATEWAY_CHAIN_CACHE_MS: '5000',
    });
    const c = new GatewayClient({
      baseUrl: cached.url,
      chainId: chain.chainId,
      dataAccess: chain.contracts.DataAccess,
    });
    try {
      for (const bytes of [data.manifestBytes, data.keys, ...data.objects])
        await c.upload(chain.signers.steward, bytes);
      const small = await registerAndGrant(chain, data, { opMask: OP.READ, maxRuns: 3 });
      const ticket = await c.requestTicket(chain.signers.lab, {
        sbtId: labSbt,
        datasetId: small.datasetId,
        op: OP.READ,
      });
      const digests = data.objects.map(sha256);
      await c.fetchObject(ticket, digests[0]!);
      await c.fetchObject(ticket, digests[1]!);
      await waitRecorded(c, ticket.ticketHash, 2);
      expect((await chain.as('lab').DataAccess.getGrant(small.grantId)).runsUsed).toBe(2n);
      await c.fetchObject(ticket, digests[2]!);
      const refused = await expectGatewayError(c.fetchObject(ticket, digests[3]!), 'ACCESS_DENIED');
      expect(refused.message).toMatch(/RunsExhausted/);
      await waitRecorded(c, ticket.ticketHash, 3);
      expect((await chain.as('lab').DataAccess.getGrant(small.grantId)).runsUsed).toBe(3n);
    } finally {
      c.close();
      await cached.stop();
    }
  });

  it('stops serving a revoked grant within ~2 s, old ticket or not; a use overtaken by the revocation is marked failed', async () => {
    const ticket = await client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.READ });
    const digest = sha256(data.objects[0]!);
    await client.fetchObject(ticket, digest);
    await waitRecorded(client, ticket.ticketHash, 1);
    const runsBefore = await runsUsed();

    // A second use is broadcast, then the revocation overtakes it in the same block (higher tip).
    await chain.rpc('evm_setAutomine', [false]);
    let revokedAt = 0;
    try {
      await client.fetchObject(ticket, sha256(data.objects[1]!));
      const deadline = Date.now() + 10_000;
      while (
        (await client.useState(ticket.ticketHash)).uses.some((use) => use.state === 'pending' && use.txHash === null)
      ) {
        if (Date.now() > deadline) throw new Error('use not sent');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await chain.as('steward').DataAccess.revoke(grantId, {
        maxPriorityFeePerGas: 100_000_000_000n,
        maxFeePerGas: 200_000_000_000n,
      });
      await chain.rpc('evm_mine');
      revokedAt = Date.now();
    } finally {
      await chain.rpc('evm_setAutomine', [true]);
    }
    expect((await chain.as('lab').DataAccess.getGrant(grantId)).status).toBe(BigInt(GrantStatus.Revoked));

    let refused: GatewayError | null = null;
    while (!refused && Date.now() - revokedAt < 5_000) {
      try {
        await client.fetchObject(ticket, digest);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } catch (error) {
        refused = error as GatewayError;
      }
    }
    expect(refused?.code).toBe('ACCESS_DENIED');
    expect(refused?.message).toMatch(/Revoked/);
    expect(Date.now() - revokedAt).toBeLessThan(2_000);
    await expectGatewayError(
      client.requestTicket(chain.signers.lab, { sbtId: labSbt, datasetId, op: OP.READ }),
      'ACCESS_DENIED',
    );

    // The overtaken use: reverted in its batch, then refused alone -> failed with the decoded reason, never dropped.
    const deadline = Date.now() + 15_000;
    let failed: UseState['uses'][number] | undefined;
    while (!failed && Date.now() < deadline) {
      failed = (await client.useState(ticket.ticketHash)).uses.find((use) => use.state === 'failed');
      if (!failed) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(failed).toMatchObject({
      objectDigest: `0x${sha256(data.objects[1]!)}`,
      error: `DataAccessGrantRevoked(grantId=${grantId})`,
    });
    expect(await runsUsed()).toBe(runsBefore);
    expect(gateway.logs.some((line) => line.includes('use cannot be recorded'))).toBe(true);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    await gateway.stop();
    expect(gateway.process.exitCode).toBe(0);
    expect(gateway.logs.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    expect(gateway.logs.join('\n')).not.toContain(GATEWAY_KEY.slice(2));
  });
});
