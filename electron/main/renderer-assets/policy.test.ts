import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rendererCsp, resolveRendererFile } from './policy';

const root = path.resolve('/srv/renderer');

describe('renderer asset policy (shared by the Electron shell and the browser host)', () => {
  it('maps paths inside the renderer folder and the root to index.html', () => {
    expect(resolveRendererFile(root, '/')).toEqual({ file: path.join(root, 'index.html') });
    expect(resolveRendererFile(root, '/assets/a%20b.js')).toEqual({ file: path.join(root, 'assets', 'a b.js') });
  });

  it('refuses escapes and undecodable paths', () => {
    expect(resolveRendererFile(root, '/..%2f..%2fetc/passwd')).toEqual({ status: 403 });
    expect(resolveRendererFile(root, '/%2e%2e')).toEqual({ status: 403 });
    expect(resolveRendererFile(root, '/%zz')).toEqual({ status: 400 });
  });

  it('differs between runtimes only in where the page may connect', () => {
    const electron = rendererCsp("'self'");
    const host = rendererCsp('ws://127.0.0.1:4000');
    expect(electron.replace("connect-src 'self'", '')).toBe(host.replace('connect-src ws://127.0.0.1:4000', ''));
    expect(host).toContain("frame-ancestors 'none'");
  });
});
