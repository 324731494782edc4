import { app, BrowserWindow, ipcMain, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCoreConfig } from '../config/core-config';
import { defaultDataDir } from '../config/paths';
import { createCore } from '../core';
import { hardenSession, hardenWindow, RENDERER_ORIGIN, secureWebPreferences } from './hardening';
import { bridgeIpc } from './ipc-bridge';
import { registerRendererScheme, serveRenderer } from './protocol';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The Electron lifecycle around the plain-Node core: one window, hardened, talking through the contract. */
export function runElectronApp(): void {
  // Same data folder as the browser host, so both see the same profiles and devnet.
  app.setPath('userData', defaultDataDir());
  registerRendererScheme();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }

  const log = {
    info: (msg: string, fields?: Record<string, unknown>) =>
      console.log(JSON.stringify({ level: 'info', msg, ...fields })),
    error: (msg: string, fields?: Record<string, unknown>) =>
      console.error(JSON.stringify({ level: 'error', msg, ...fields })),
  };

  let window: BrowserWindow | null = null;
  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  void app.whenReady().then(() => {
    const core = createCore(loadCoreConfig('electron', app.getVersion()), log);
    hardenSession(session.defaultSession);
    serveRenderer(path.join(here, '..', 'renderer'));
    const unbridge = bridgeIpc(ipcMain, core.router, core.events, () => window?.webContents ?? null);
    core.start();

    window = new BrowserWindow({
      width: 1360,
      height: 860,
      minWidth: 960,
      minHeight: 600,
      show: false,
      title: 'COS Custodian',
      webPreferences: secureWebPreferences(path.join(here, '..', 'preload', 'index.cjs')),
    });
    hardenWindow(window);
    window.once('ready-to-show', () => window?.show());
    void window.loadURL(`${RENDERER_ORIGIN}/index.html`);

    app.on('window-all-closed', () => {
      unbridge();
      void core.stop().then(() => app.quit());
    });
  });
}
