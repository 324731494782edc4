/**
 * Gateway benchmark (npm run bench:gateway): a real anvil, the contracts, and the gateway as a child process.
 * Measures tickets/s, ticket-guarded serves/s with p50/p99 latency, and a 10,000-request burst (errors, the
 * gateway's RSS before and after), then checks every distinct (ticket, object) served is recorded once.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { HDNodeWallet } from 'ethers';
import { decodeCosEvent } from '../../shared/contracts';
import { GatewayClient } from '../../shared/gateway/client';
import type { SignedTicket } from '../../shared/gateway/protocol';
import { OP, buildDataset, registerAndGrant, sha256, startGatewayProcess, startTestChain } from './test-fixture';

const MNEMONIC = 'test test test test test test test test test test test junk';
const TICKETS = Number(process.env.BENCH_TICKETS ?? 1_000);
const SERVES = Number(process.env.BENCH_SERVES ?? 10_000);
const BURST = Number(process.env.BENCH_BURST ?? 10_000);
const CONCURRENCY = 32;

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) the process used so far, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

const chain = await startTestChain();
const gateway = await startGatewayProcess(chain, mkdtempSync(path.join(chain.dir, 'gw-')), {
  COS_GATEWAY_BATCH_SIZE: '100',
  COS_GATEWAY_FLUSH_INTERVAL_MS: '250',
}).catch(async (error: unknown) => {
  await chain.stop();
  throw error;
});
try {
  const client = new GatewayClient({
    baseUrl: gateway.url,
    chainId: chain.chainId,
    dataAccess: chain.contracts.DataAccess,
  });
  const data = buildDataset(20, 4096);
  for (const bytes of [data.manifestBytes, data.keys, ...data.objects])
    await client.upload(chain.signers.steward, bytes);
  const { datasetId, grantId } = await registerAndGrant(chain, data, { opMask: OP.READ, maxRuns: 4_000_000_000 });
  const lab = HDNodeWallet.fromPhrase(MNEMONIC, undefined, "m/44'/60'/0'/0/4");
  if (lab.address !== (await chain.signers.lab.getAddress())) throw new Error('unexpected lab account');
  const labSbt = await chain.as('lab').IdentitySBT.sbtOf(lab.address);
  const digests = data.objects.map(sha256);
  console.log(
    `gateway benchmark: loopback, ${digests.length} objects of ${data.objects[1]!.length} B, concurrency ${CONCURRENCY}`,
  );

  // 1a. Tickets end to end, as a caller sees them: challenge + EIP-712 request signed in this (client)
  // process + canAccess on chain (<= 1 s cache) + signed ticket + the client's check of the reply.
  const load = () => `load ${loadavg()[0]!.toFixed(2)}`;
  let started = performance.now();
  const tickets = await pool(TICKETS, CONCURRENCY, () =>
    client.requestTicket(lab, { sbtId: labSbt, datasetId, op: OP.READ }),
  );
  let seconds = (performance.now() - started) / 1000;
  console.log(
    `tickets end-to-end: ${TICKETS} in ${seconds.toFixed(2)} s = ${(TICKETS / seconds).toFixed(0)} tickets/s ` +
      `(client fetches a challenge and signs each request inside the timing; ${load()})`,
  );

  // 1b. The gateway's issuance: challenges fetched and requests signed before the timing; timed is
  // POST /v1/tickets (signature check, nonce, chain check, signing) plus the client's check of each reply.
  const prepared = await pool(TICKETS, CONCURRENCY, () =>
    client.prepareTicketRequest(lab, { sbtId: labSbt, datasetId, op: OP.READ }),
  );
  const gatewayPid = gateway.process.pid!;
  let cpu = cpuSeconds(gatewayPid);
  started = performance.now();
  const issued = await pool(TICKETS, CONCURRENCY, (i) => client.submitTicketRequest(prepared[i]!));
  seconds = (performance.now() - started) / 1000;
  cpu = cpuSeconds(gatewayPid) - cpu;
  console.log(
    `tickets issued (pre-signed requests): ${issued.length} in ${seconds.toFixed(2)} s = ${(TICKETS / seconds).toFixed(0)} tickets/s; ` +
      `gateway CPU ${((cpu * 1000) / TICKETS).toFixed(2)} ms/ticket = ${(TICKETS / cpu).toFixed(0)} tickets per gateway CPU-second (${load()})`,
  );

  // 2. Serves: 20 tickets x 20 objects = 400 distinct uses, every request ticket-checked and re-checked on chain (<= 1 s cache).
  const serveTickets: SignedTicket[] = tickets.slice(0, 20);
  const latencies: number[] = [];
  let errors = 0;
  const serve = async (i: number) => {
    const ticket = serveTickets[i % serveTickets.length]!;
    const digest = digests[Math.floor(i / serveTickets.length) % digests.length]!;
    const t0 = performance.now();
    try {
      await client.fetchObject(ticket, digest);
    } catch {
      errors += 1;
    }
    latencies.push(performance.now() - t0);
  };
  cpu = cpuSeconds(gatewayPid);
  started = performance.now();
  await pool(SERVES, CONCURRENCY, serve);
  seconds = (performance.now() - started) / 1000;
  cpu = cpuSeconds(gatewayPid) - cpu;
  latencies.sort((a, b) => a - b);
  console.log(
    `serves: ${SERVES} in ${seconds.toFixed(2)} s = ${(SERVES / seconds).toFixed(0)} serves/s, ` +
      `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, errors ${errors}; ` +
      `gateway CPU ${((cpu * 1000) / SERVES).toFixed(3)} ms/serve (${load()})`,
  );

  // 3. Burst: 10,000 requests issued at once (the client queues them on 64 keep-alive sockets).
  const rssBefore = rssMiB(gateway.process.pid!);
  errors = 0;
  latencies.length = 0;
  started = performance.now();
  await Promise.all(Array.from({ length: BURST }, (_, i) => serve(i + 7)));
  seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const rssAfter = rssMiB(gateway.process.pid!);
  console.log(
    `burst: ${BURST} requests in ${seconds.toFixed(2)} s, errors ${errors}, p99 ${percentile(latencies, 99).toFixed(0)} ms (queueing included), ` +
      `gateway RSS ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after (${load()})`,
  );

  // 4. Every distinct (ticket, object) recorded exactly once.
  const distinct = serveTickets.length * digests.length;
  const deadline = Date.now() + 60_000;
  let recorded = 0;
  while (Date.now() < deadline) {
    const states = await Promise.all(serveTickets.map((ticket) => client.useState(ticket.ticketHash)));
    recorded = states.reduce((sum, state) => sum + state.uses.filter((use) => use.state === 'recorded').length, 0);
    if (recorded === distinct) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const logs = await chain.provider.getLogs({ address: chain.contracts.DataAccess, fromBlock: 0, toBlock: 'latest' });
  const used = logs.filter((log) => decodeCosEvent(chain.contracts, log)?.name === 'Used').length;
  const runs = (await chain.as('lab').DataAccess.getGrant(grantId)).runsUsed;
  console.log(
    `uses: ${distinct} distinct (ticket, object) served; ${recorded} recorded; ${used} Used events; runsUsed ${runs}`,
  );
  const health = (await (await fetch(`${gateway.url}/health`)).json()) as { eventLoopDelayMs?: unknown };
  console.log(`gateway event-loop delay since start (ms): ${JSON.stringify(health.eventLoopDelayMs)}`);
  const warnings = gateway.logs.filter((line) => /"level":"(warn|error)"/.test(line));
  console.log(`gateway warnings/errors: ${warnings.length}`);
  for (const line of warnings.slice(0, 5)) console.log(`  ${line}`);
  client.close();
} finally {
  await gateway.stop();
  await chain.stop();
}
