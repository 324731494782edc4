import http from 'node:http';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventBus } from '../main/events/bus';
import { createRouter } from '../main/ipc/router';
import { unavailableHandlersForTests } from '../main/usecases';
import { HOST_PROTOCOL, startBrowserHost, TOKEN_PROTOCOL_PREFIX, type BrowserHost } from './server';

const TOKEN = 'a1'.repeat(32);
let host: BrowserHost;
const events = new EventBus();

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cos-host-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(path.dirname(dir), 'outside.txt'), 'secret');
  const router = createRouter({
    ...unavailableHandlersForTests('not under test'),
    'app.info': () => {
      throw new Error('unused');
    },
    'chain.status': () => ({
      state: 'connected',
      chainId: 31337,
      blockNumber: 4,
      rpcUrl: 'http://127.0.0.1:1',
      lastError: null,
      updatedAt: 1,
    }),
    'chain.block': () => {
      throw new Error('unused');
    },
    'services.health': () => [],
  });
  host = await startBrowserHost({ router, events, rendererDir: dir, token: TOKEN });
});

afterAll(() => host.close());

type Outcome = { opened: true; ws: WebSocket } | { opened: false; status: number };

function connect(options: { token?: string | null; origin?: string; host?: string; path?: string }): Promise<Outcome> {
  const protocols = [HOST_PROTOCOL];
  if (options.token !== null) protocols.push(TOKEN_PROTOCOL_PREFIX + (options.token ?? TOKEN));
  const headers: Record<string, string> = {};
  if (options.host) headers.host = options.host;
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}${options.path ?? '/ipc'}`, protocols, {
    origin: options.origin ?? host.origin,
    headers,
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ opened: false, status: -1 }));
  });
}

/** A request exactly as written: fetch would normalise the path and refuses to set Host. */
function rawGet(pathname: string, hostHeader = `127.0.0.1:${host.port}`): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: host.port, path: pathname, headers: { host: hostHeader } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

describe('browser host', () => {
  it('listens on loopback only and puts the token in the URL fragment', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/#token=${TOKEN}`);
  });

  it('refuses a missing or wrong token', async () => {
    await expect(connect({ token: null })).resolves.toEqual({ opened: false, status: 401 });
    await expect(connect({ token: 'b2'.repeat(32) })).resolves.toEqual({ opened: false, status: 401 });
    await expect(connect({ token: 'short' })).resolves.toEqual({ opened: false, status: 401 });
  });

  it('refuses a foreign Origin even with the right token', async () => {
    await expect(connect({ origin: 'https://evil.example' })).resolves.toEqual({ opened: false, status: 403 });
    await expect(connect({ origin: 'http://127.0.0.1:1' })).resolves.toEqual({ opened: false, status: 403 });
  });

  it('refuses a foreign Host header (DNS rebinding) and other paths', async () => {
    await expect(connect({ host: `evil.example:${host.port}` })).resolves.toEqual({ opened: false, status: 421 });
    await expect(connect({ path: '/other' })).resolves.toEqual({ opened: false, status: 404 });
    await expect(rawGet('/', 'evil.example')).resolves.toBe(421);
  });

  it('answers calls through the router and pushes core events to the client', async () => {
    const outcome = await connect({});
    expect(outcome.opened).toBe(true);
    if (!outcome.opened) return;
    const { ws } = outcome;
    ws.send(JSON.stringify({ id: 1, channel: 'chain.status', request: {} }));
    await expect(nextMessage(ws)).resolves.toMatchObject({ id: 1, result: { ok: true, value: { blockNumber: 4 } } });
    ws.send(JSON.stringify({ id: 2, channel: 'no.such', request: {} }));
    await expect(nextMessage(ws)).resolves.toMatchObject({
      id: 2,
      result: { ok: false, error: { code: 'UNKNOWN_CHANNEL' } },
    });
    const pushed = nextMessage(ws);
    events.emit('chain.newBlock', { chainId: 31337, blockNumber: 5 });
    await expect(pushed).resolves.toEqual({ event: 'chain.newBlock', payload: { chainId: 31337, blockNumber: 5 } });
    ws.close();
  });

  it('closes the socket on a malformed message', async () => {
    const outcome = await connect({});
    if (!outcome.opened) throw new Error('expected to connect');
    const closed = new Promise<number>((resolve) => outcome.ws.once('close', (code) => resolve(code)));
    outcome.ws.send('{not json');
    await expect(closed).resolves.toBe(1008);
  });

  it('serves the renderer with a strict CSP and never a file outside it', async () => {
    const index = await fetch(`http://127.0.0.1:${host.port}/`);
    expect(index.status).toBe(200);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src ws://127.0.0.1:${host.port}`);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect((await fetch(`http://127.0.0.1:${host.port}/assets/app.js`)).status).toBe(200);
    await expect(rawGet('/..%2foutside.txt')).resolves.toBe(403);
    await expect(rawGet('/%zz')).resolves.toBe(400);
    expect((await fetch(`http://127.0.0.1:${host.port}/missing.js`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${host.port}/`, { method: 'POST' })).status).toBe(405);
  });
});
