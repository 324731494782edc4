import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export interface ServiceOptions {
  name: string;
  version: string;
  host: string;
  port: number;
  logger: Logger;
  /** Extra health facts (chain id, queue depth...); throwing marks the service unhealthy. */
  health?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  routes?: Record<string, RouteHandler>;
  /**
   * Routes with parameters: asked first for every request but `GET /health`; resolves false when the
   * request is not its own (then the exact routes, then 404). An error with `status` and `code` becomes
   * that JSON error reply; anything else a 500 with no details.
   */
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
}

/** What a handler throws for a typed error reply. */
export interface HttpErrorLike {
  status: number;
  code: string;
  message: string;
}

function isHttpErrorLike(error: unknown): error is HttpErrorLike {
  const candidate = error as Partial<HttpErrorLike> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 600 &&
    typeof candidate.code === 'string' &&
    typeof candidate.message === 'string'
  );
}

export interface RunningService {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(payload);
}

export async function startHttpService(options: ServiceOptions): Promise<RunningService> {
  const { logger } = options;
  const startedAt = Date.now();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    void (async () => {
      try {
        if (route === 'GET /health') {
          const extra = (await options.health?.()) ?? {};
          sendJson(res, 200, {
            status: 'ok',
            service: options.name,
            version: options.version,
            uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
            ...extra,
          });
          return;
        }
        if (options.handler && (await options.handler(req, res))) return;
        const handler = options.routes?.[route];
        if (!handler) {
          sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No route ${route}` } });
          return;
        }
        await handler(req, res);
      } catch (error) {
        if (isHttpErrorLike(error)) {
          if (!res.headersSent) sendJson(res, error.status, { error: { code: error.code, message: error.message } });
          else res.destroy();
          return;
        }
        logger.error('request failed', { route, error: (error as Error).message });
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
        else res.destroy();
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  logger.info('listening', { url });
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a grace period, then their sockets are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}

/** Stops the service cleanly on SIGINT/SIGTERM; a second signal exits at once. */
export function closeOnSignals(close: () => Promise<void>, logger: Logger): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    logger.info('shutting down', { signal });
    close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
