import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from './rpc';

// A node that misbehaves on purpose: a real anvil never sends these replies.
let reply: (body: { id: number }) => { status: number; body: string } = () => ({ status: 200, body: '' });
const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', () => {
    const answer = reply(JSON.parse(raw) as { id: number });
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('RpcClient validates what the node says', () => {
  const cases: [string, (body: { id: number }) => { status: number; body: string }, RegExp][] = [
    ['HTTP errors', () => ({ status: 502, body: 'bad gateway' }), /HTTP 502/],
    ['non-JSON bodies', () => ({ status: 200, body: '<html>' }), /not JSON/],
    [
      'replies to another id',
      ({ id }) => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: id + 1, result: '0x1' }) }),
      /malformed/,
    ],
    [
      'results of the wrong type',
      ({ id }) => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id, result: 12 }) }),
      /unexpected result/,
    ],
    [
      'JSON-RPC errors',
      ({ id }) => ({
        status: 200,
        body: JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: 'boom' } }),
      }),
      /failed: boom/,
    ],
  ];
  for (const [name, answer, message] of cases) {
    it(`turns ${name} into a typed UNAVAILABLE error`, async () => {
      reply = answer;
      const error = await new RpcClient(url).blockNumber().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE' });
      expect((error as Error).message).toMatch(message);
    });
  }

  it('times out a node that never answers', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const error = await new RpcClient(`http://127.0.0.1:${port}`, 200).chainId().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    silent.closeAllConnections();
    silent.close();
  });
});
