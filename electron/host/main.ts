/**
 * `npm run host`: the app through the browser host against an already running network, configured
 * by COS_RPC_URL, COS_DEPLOYMENT_FILE, COS_GATEWAY_URL and COS_ORCHESTRATOR_URL. `--open` opens a
 * Chromium app window. (`npm start` does this for you on the embedded devnet.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../services/common/log';
import { loadCoreConfig } from '../main/config/core-config';
import { createCore } from '../main/core';
import { findChromium, hasDisplay, openAppWindow } from './open-window';
import { startBrowserHost } from './server';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const config = loadCoreConfig('browser-host', version);
const core = createCore(config, createLogger({ service: 'app' }, { level: 'warn' }));
core.start();
const host = await startBrowserHost({
  router: core.router,
  events: core.events,
  rendererDir: path.resolve('out', 'renderer'),
  port: process.env.COS_HOST_PORT ? Number(process.env.COS_HOST_PORT) : 0,
});
console.log(`cos: app ready at ${host.url}`);
const chromium = findChromium();
if (process.argv.includes('--open') && chromium && hasDisplay()) {
  openAppWindow(chromium, host.url, path.join(config.dataDir, 'browser-host-profile'));
}

let closing = false;
const stop = () => {
  if (closing) process.exit(1);
  closing = true;
  void Promise.all([host.close(), core.stop()]).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
