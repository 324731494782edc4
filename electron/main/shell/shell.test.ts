/**
 * The Electron runtime cannot run on these machines, so the shell is checked against thin typed
 * fakes of the few Electron objects it touches; everything behind the shell runs for real elsewhere.
 */
import { EventEmitter } from 'node:events';
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, Session, WebContents } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { channelNames, EVENT_PREFIX, IPC_PREFIX } from '../../../shared/ipc/names';
import { EventBus } from '../events/bus';
import { createRouter, type Router } from '../ipc/router';
import { hardenSession, hardenWindow, isRendererUrl, appCsp, secureWebPreferences } from './hardening';
import { bridgeIpc } from './ipc-bridge';

class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | null = null;
  sent: [string, unknown][] = [];
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
  send(channel: string, payload: unknown) {
    this.sent.push([channel, payload]);
  }
  isDestroyed() {
    return false;
  }
}

function navigate(contents: FakeWebContents, eventName: string, url: string): boolean {
  let prevented = false;
  contents.emit(eventName, { preventDefault: () => (prevented = true) }, url);
  return prevented;
}

describe('window hardening', () => {
  it('uses an isolated, sandboxed renderer without Node', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('denies navigation away from the app, new windows and webviews', () => {
    const contents = new FakeWebContents();
    hardenWindow({ webContents: contents } as unknown as BrowserWindow);
    expect(navigate(contents, 'will-navigate', 'https://evil.example/')).toBe(true);
    expect(navigate(contents, 'will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(navigate(contents, 'will-redirect', 'http://127.0.0.1:8545/')).toBe(true);
    expect(navigate(contents, 'will-navigate', 'app://renderer/index.html')).toBe(false);
    expect(navigate(contents, 'will-attach-webview', 'app://renderer/')).toBe(true);
    expect(contents.openHandler?.({ url: 'app://renderer/x' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    const handlers: Record<string, (...args: unknown[]) => unknown> = {};
    const session = {
      setPermissionRequestHandler: (h: (...a: unknown[]) => unknown) => (handlers.request = h),
      setPermissionCheckHandler: (h: (...a: unknown[]) => unknown) => (handlers.check = h),
      setDevicePermissionHandler: (h: (...a: unknown[]) => unknown) => (handlers.device = h),
    } as unknown as Session;
    hardenSession(session);
    const callback = vi.fn();
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
      handlers.request?.({}, permission, callback);
    }
    expect(callback.mock.calls).toEqual([[false], [false], [false], [false]]);
    expect(handlers.check?.({}, 'media')).toBe(false);
    expect(handlers.device?.({})).toBe(false);
  });

  it('recognises only the app origin', () => {
    expect(isRendererUrl('app://renderer/index.html')).toBe(true);
    expect(isRendererUrl('app://renderer.evil/index.html')).toBe(false);
    expect(isRendererUrl('https://renderer/')).toBe(false);
    expect(isRendererUrl('not a url')).toBe(false);
  });

  it('ships a CSP without inline or remote scripts', () => {
    expect(appCsp).toContain("script-src 'self'");
    expect(appCsp).toContain("object-src 'none'");
    expect(appCsp).not.toMatch(/script-src[^;]*unsafe/);
  });
});

describe('IPC bridge', () => {
  function setup(router: Router) {
    const registered = new Map<string, (event: IpcMainInvokeEvent, request: unknown) => unknown>();
    const ipcMain = {
      handle: (channel: string, fn: (event: IpcMainInvokeEvent, request: unknown) => unknown) =>
        registered.set(channel, fn),
      removeHandler: (channel: string) => registered.delete(channel),
    } as unknown as IpcMain;
    const events = new EventBus();
    const contents = new FakeWebContents();
    const unbridge = bridgeIpc(ipcMain, router, events, () => contents as unknown as WebContents);
    return { registered, events, contents, unbridge };
  }
  const fromFrame = (url: string) => ({ senderFrame: { url } }) as unknown as IpcMainInvokeEvent;

  it('registers one handler per contract channel and removes them all', () => {
    const { registered, unbridge } = setup(createRouter({} as never));
    expect([...registered.keys()].sort()).toEqual(channelNames.map((c) => IPC_PREFIX + c).sort());
    unbridge();
    expect(registered.size).toBe(0);
  });

  it('answers only the app renderer frame and routes through the validating router', async () => {
    const dispatch = vi.fn(async () => ({ ok: true as const, value: 'ok' }));
    const { registered } = setup({ dispatch });
    const handler = registered.get(IPC_PREFIX + 'chain.status')!;
    await expect(handler(fromFrame('https://evil.example/'), {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(dispatch).not.toHaveBeenCalled();
    await expect(handler(fromFrame('app://renderer/index.html'), { a: 1 })).resolves.toEqual({ ok: true, value: 'ok' });
    expect(dispatch).toHaveBeenCalledWith('chain.status', { a: 1 });
  });

  it('forwards core events to the window under the event prefix', () => {
    const { events, contents } = setup(createRouter({} as never));
    events.emit('chain.newBlock', { chainId: 31337, blockNumber: 9 });
    expect(contents.sent).toEqual([[EVENT_PREFIX + 'chain.newBlock', { chainId: 31337, blockNumber: 9 }]]);
  });
});
