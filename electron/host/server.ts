import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { EventBus } from '../main/events/bus';
import type { Router } from '../main/ipc/router';
import { rendererContentTypes, rendererCsp, resolveRendererFile } from '../main/renderer-assets/policy';

export const HOST_PROTOCOL = 'cos.v1';
export const TOKEN_PROTOCOL_PREFIX = 'cos-token.';
const MAX_MESSAGE_BYTES = 1 << 20;

const requestMessage = z.object({
  id: z.number().int().nonnegative(),
  channel: z.string().max(128),
  request: z.unknown(),
});

export interface HostOptions {
  router: Router;
  events: EventBus;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  /** Fixed token for tests; production launches always draw a fresh one. */
  token?: string;
}

export interface BrowserHost {
  /** Open this URL: the token rides in the fragment, which browsers never send to servers. */
  url: string;
  origin: string;
  port: number;
  close(): Promise<void>;
}

export function contentSecurityPolicy(port: number): string {
  return rendererCsp(`ws://127.0.0.1:${port}`);
}

function tokenFromProtocols(header: string | undefined): string | null {
  if (!header) return null;
  const entry = header
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return entry ? entry.slice(TOKEN_PROTOCOL_PREFIX.length) : null;
}

function sameToken(given: string | null, expected: Buffer): boolean {
  if (!given || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

function refuseUpgrade(socket: Socket, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Serves the built renderer and the core's router over a WebSocket on 127.0.0.1 only. A client must
 * present the per-launch 256-bit token and come from the host's own origin; anything else is refused
 * before the WebSocket opens.
 */
export async function startBrowserHost(options: HostOptions): Promise<BrowserHost> {
  const tokenHex = options.token ?? randomBytes(32).toString('hex');
  if (!/^[0-9a-f]{64}$/.test(tokenHex)) throw new Error('host token must be 32 bytes of lowercase hex');
  const token = Buffer.from(tokenHex, 'hex');
  const rendererRoot = path.resolve(options.rendererDir);
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origin = () => `http://127.0.0.1:${port}`;

  const server = http.createServer((req, res) => {
    // Refusing foreign Host headers defeats DNS rebinding against the loopback port.
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(421).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    void serveStatic(req, res);
  });

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const resolved = resolveRendererFile(rendererRoot, new URL(req.url ?? '/', origin()).pathname);
    if ('status' in resolved) {
      res.writeHead(resolved.status).end();
      return;
    }
    const { file } = resolved;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, {
        'content-type': rendererContentTypes[path.extname(file)] ?? 'application/octet-stream',
        'content-length': info.size,
        'content-security-policy': contentSecurityPolicy(port),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cache-control': path.basename(file) === 'index.html' ? 'no-store' : 'max-age=3600',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
    }
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(HOST_PROTOCOL) ? HOST_PROTOCOL : false),
  });

  server.on('upgrade', (req, socket: Socket, head) => {
    const url = new URL(req.url ?? '/', origin());
    if (url.pathname !== '/ipc') return refuseUpgrade(socket, 404, 'Not Found');
    if (!allowedHosts().has(req.headers.host ?? '')) return refuseUpgrade(socket, 421, 'Misdirected Request');
    if (req.headers.origin !== origin()) return refuseUpgrade(socket, 403, 'Forbidden');
    if (!sameToken(tokenFromProtocols(req.headers['sec-websocket-protocol']), token)) {
      return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const clients = new Set<WebSocket>();
  const unsubscribe = options.events.subscribe((event, payload) => {
    const frame = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(frame);
  });

  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      let message: z.infer<typeof requestMessage>;
      try {
        const parsed = requestMessage.safeParse(JSON.parse(data.toString()));
        if (!parsed.success) return ws.close(1008, 'malformed message');
        message = parsed.data;
      } catch {
        return ws.close(1008, 'malformed message');
      }
      void options.router.dispatch(message.channel, message.request).then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: message.id, result }));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `${origin()}/#token=${tokenHex}`,
    origin: origin(),
    port,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
