import type { BrowserWindow, Session, WebPreferences } from 'electron';
import { rendererCsp } from '../renderer-assets/policy';

/** The only origin the renderer is ever loaded from. */
export const RENDERER_ORIGIN = 'app://renderer';

export const appCsp = rendererCsp("'self'");

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

export function isRendererUrl(url: string): boolean {
  try {
    return new URL(url).origin === RENDERER_ORIGIN || url.startsWith(`${RENDERER_ORIGIN}/`);
  } catch {
    return false;
  }
}

/** Denies navigation away from the renderer, every new window, and every permission request. */
export function hardenWindow(window: BrowserWindow): void {
  const contents = window.webContents;
  contents.on('will-navigate', (event, url) => {
    if (!isRendererUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isRendererUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function hardenSession(target: Session): void {
  target.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  target.setPermissionCheckHandler(() => false);
  target.setDevicePermissionHandler(() => false);
}
