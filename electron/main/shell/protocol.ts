import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { rendererContentTypes, resolveRendererFile } from '../renderer-assets/policy';
import { appCsp } from './hardening';

/** Must run before app 'ready': app:// behaves as a secure, standard origin. */
export function registerRendererScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** Serves the built renderer at app://renderer/ with the CSP header on every response. */
export function serveRenderer(rendererDir: string): void {
  const root = path.resolve(rendererDir);
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'renderer') return new Response('Forbidden', { status: 403 });
    const resolved = resolveRendererFile(root, url.pathname);
    if ('status' in resolved) return new Response(null, { status: resolved.status });
    const { file } = resolved;
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'content-type': rendererContentTypes[path.extname(file)] ?? 'application/octet-stream',
          'content-security-policy': appCsp,
          'x-content-type-options': 'nosniff',
        },
      });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}
