/**
 * `npm start`: a local chain with the contracts, the gateway and the orchestrator, then the app:
 * the Electron window where its runtime is installed, otherwise the browser host in a Chromium
 * app window, or just its URL when there is no display. Ctrl-C stops everything it started.
 *
 * Flags: --no-open (print the URL, open no window), --browser-host (skip Electron even if present).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadCoreConfig } from '../../electron/main/config/core-config';
import { defaultDataDir } from '../../electron/main/config/paths';
import { createCore } from '../../electron/main/core';
import { findChromium, hasDisplay, openAppWindow } from '../../electron/host/open-window';
import { startBrowserHost } from '../../electron/host/server';
import { createLogger } from '../common/log';
import { startServiceChild, type ServiceChild } from './children';
import { attestDevnetOrchestrator, startDevnet, type Devnet } from './devnet';
import { DEVNET_OPERATOR_KEYS, DEVNET_OPERATORS, DEVNET_ORCHESTRATOR_REGION } from './operators';

const require = createRequire(import.meta.url);
const args = new Set(process.argv.slice(2));
const say = (line: string) => console.log(`cos: ${line}`);
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

function electronBinary(): string | null {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const pathFile = path.join(dir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const stops: (() => Promise<void>)[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping...');
    // Reverse start order: the app first, the chain last (it dumps its state on the way out).
    for (const stop of stops.reverse()) {
      await stop().catch((error: unknown) => say(`stop failed: ${(error as Error).message}`));
    }
    say('stopped');
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function main(): Promise<void> {
  const dataDir = defaultDataDir();
  const verbose = process.env.COS_VERBOSE === '1';
  say(`data folder ${dataDir}`);

  const { deployContracts } = await import('../../contracts/script/deploy');
  const devnet: Devnet = await startDevnet({
    dataDir,
    blockTime: Number(process.env.COS_DEVNET_BLOCK_TIME ?? 1),
    log: (line) => (verbose ? say(line) : undefined),
    deploy: async (signer, log) => {
      const deployer = await signer.getAddress();
      // Deployer = region oracle; gateway and orchestrator get accounts of their own (no nonce races).
      const contracts = await deployContracts(signer, {
        log,
        devRoles: {
          gateway: DEVNET_OPERATORS.gateway,
          orchestrator: DEVNET_OPERATORS.orchestrator,
          regionOracle: deployer,
        },
      });
      return { ...contracts } as Record<string, string>;
    },
  });
  stops.push(() => devnet.stop());
  say(
    `devnet chain ${devnet.chainId} at ${devnet.rpcUrl} (${devnet.reused ? 'state reused' : 'contracts deployed'}; ` +
      `deployment ${devnet.deploymentFile})`,
  );
  // The orchestrator's residency: a region attestation by the deployer (the devnet's region oracle), renewed near expiry.
  const renewed = await attestDevnetOrchestrator(devnet);
  if (renewed) say(`orchestrator attested in region ${DEVNET_ORCHESTRATOR_REGION}`);

  const serviceEnv = (name: 'gateway' | 'orchestrator') => ({
    [`COS_${name.toUpperCase()}_RPC_URL`]: devnet.rpcUrl,
    [`COS_${name.toUpperCase()}_DEPLOYMENT_FILE`]: devnet.deploymentFile,
    [`COS_${name.toUpperCase()}_DATA_DIR`]: path.join(dataDir, 'services', name),
    [`COS_${name.toUpperCase()}_PRIVATE_KEY`]: DEVNET_OPERATOR_KEYS[name],
  });
  const services: ServiceChild[] = [];
  for (const name of ['gateway', 'orchestrator'] as const) {
    const env: Record<string, string> = serviceEnv(name);
    if (name === 'orchestrator') {
      env.COS_ORCHESTRATOR_GATEWAY_URL = services[0]!.url;
      env.COS_ORCHESTRATOR_CONFIRMATIONS = '0';
      env.COS_ORCHESTRATOR_POLL_INTERVAL_MS = '1000';
    }
    const child = await startServiceChild(name, env, (line) => (verbose ? console.log(line) : undefined));
    services.push(child);
    stops.push(() => child.stop());
    say(`${name} at ${child.url} (health: ${child.url}/health)`);
  }

  const appEnv = {
    COS_DATA_DIR: dataDir,
    COS_RPC_URL: devnet.rpcUrl,
    COS_DEPLOYMENT_FILE: devnet.deploymentFile,
    COS_GATEWAY_URL: services[0]!.url,
    COS_ORCHESTRATOR_URL: services[1]!.url,
  };

  const electron = args.has('--browser-host') || args.has('--no-open') ? null : electronBinary();
  if (electron && hasDisplay()) {
    say('opening the Electron window');
    const app: ChildProcess = spawn(electron, ['.'], { env: { ...process.env, ...appEnv }, stdio: 'inherit' });
    stops.push(async () => {
      if (app.exitCode === null) app.kill('SIGTERM');
    });
    app.once('exit', () => void stopAll(0));
    return;
  }

  const logger = createLogger({ service: 'app' }, { level: verbose ? 'info' : 'warn' });
  const core = createCore(loadCoreConfig('browser-host', version, { ...process.env, ...appEnv }), logger);
  core.start();
  stops.push(() => core.stop());
  const host = await startBrowserHost({
    router: core.router,
    events: core.events,
    rendererDir: path.resolve('out', 'renderer'),
    port: process.env.COS_HOST_PORT ? Number(process.env.COS_HOST_PORT) : 0,
  });
  stops.push(() => host.close());
  if (!electron && !args.has('--no-open')) say('no Electron runtime here: using the browser host');

  const chromium = findChromium();
  if (!args.has('--no-open') && hasDisplay() && chromium) {
    const window = openAppWindow(chromium, host.url, path.join(dataDir, 'browser-host-profile'));
    window.once('exit', () => void stopAll(0));
    stops.push(async () => {
      if (window.exitCode === null) window.kill('SIGTERM');
    });
    say(`app window opened (${host.origin}); close it or press Ctrl-C to stop`);
  } else {
    if (!args.has('--no-open') && !chromium) say('no Chromium found (Debian: sudo apt-get install -y chromium)');
    say(`app ready at ${host.url}`);
    say('open that URL in a browser on this machine; press Ctrl-C to stop');
  }
}

main().catch((error: unknown) => {
  console.error(`cos: start failed: ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
