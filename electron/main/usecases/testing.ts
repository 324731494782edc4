/**
 * A whole devnet for the use-case tests and the result-latency benchmark: anvil with the contracts, the
 * gateway and (optionally) the orchestrator as real processes, and "machines": custodian cores with
 * their own data folders and keychain services, driven through the real IPC router.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServiceChild, type ServiceChild } from '../../../services/devnet/children';
import type { ChannelName, ChannelRequest, ChannelResponse, EventName } from '../../../shared/ipc/contract';
import type { IpcError } from '../../../shared/ipc/errors';
import { startDevChain, type DevChain } from '../chain/watcher-fixture';
import type { CoreConfig } from '../config/core-config';
import { createCore, type Core } from '../core';
import { call } from '../ipc/router';
import { KeytarKeychain } from '../keys';
import { removeKeychainService, testKeychainService } from '../keys/testing/integration';

/** anvil's accounts #1 and #2: the devnet gateway and orchestrator keys (public test keys). */
export const GATEWAY_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
export const ORCHESTRATOR_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

export interface Machine {
  name: string;
  dataDir: string;
  service: string;
  core: Core;
  /** Every IPC request, answer and event this machine produced. */
  traffic: unknown[];
  logs: unknown[];
}

export interface Stack {
  work: string;
  chain: DevChain;
  deploymentFile: string;
  gateway: ServiceChild;
  orchestrator: ServiceChild | null;
  serviceLogs: string[];
  machines: Machine[];
  startMachine(name: string, options?: { dataDir?: string; service?: string; orchestrator?: boolean }): Machine;
  stopMachine(machine: Machine): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(options: { orchestrator?: boolean } = {}): Promise<Stack> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'cos-custodian-'));
  const chain = await startDevChain();
  const deploymentFile = path.join(work, 'deployment.json');
  const deployment = {
    network: 'devnet',
    chainId: chain.chainId,
    rpcUrl: chain.anvil.rpcUrl,
    deployedAtBlock: chain.startBlock,
    deployer: await chain.signers.deployer.getAddress(),
    contracts: chain.contracts,
    createdAt: new Date().toISOString(),
  };
  await writeFile(deploymentFile, JSON.stringify(deployment));
  const serviceLogs: string[] = [];
  const serviceEnv = (name: string, key: string, extra: Record<string, string> = {}) => ({
    [`COS_${name}_RPC_URL`]: chain.anvil.rpcUrl,
    [`COS_${name}_DEPLOYMENT_FILE`]: deploymentFile,
    [`COS_${name}_DATA_DIR`]: path.join(work, name.toLowerCase()),
    [`COS_${name}_PRIVATE_KEY`]: key,
    ...extra,
  });
  const gateway = await startServiceChild('gateway', serviceEnv('GATEWAY', GATEWAY_KEY), (line) =>
    serviceLogs.push(line),
  );
  const orchestrator =
    options.orchestrator === false
      ? null
      : await startServiceChild(
          'orchestrator',
          serviceEnv('ORCHESTRATOR', ORCHESTRATOR_KEY, {
            COS_ORCHESTRATOR_GATEWAY_URL: gateway.url,
            // anvil mines one block per transaction here: no confirmations to wait for.
            COS_ORCHESTRATOR_CONFIRMATIONS: '0',
            COS_ORCHESTRATOR_POLL_INTERVAL_MS: '200',
          }),
          (line) => serviceLogs.push(line),
        );
  const machines: Machine[] = [];

  const startMachine: Stack['startMachine'] = (name, machineOptions = {}) => {
    const dataDir = machineOptions.dataDir ?? path.join(work, name);
    const service = machineOptions.service ?? testKeychainService();
    const config: CoreConfig = {
      version: 'test',
      runtime: 'browser-host',
      dataDir,
      networkName: 'devnet',
      rpcUrl: chain.anvil.rpcUrl,
      deploymentFile,
      deployment,
      gatewayUrl: gateway.url,
      orchestratorUrl: machineOptions.orchestrator === false ? null : (orchestrator?.url ?? null),
      pollIntervalMs: 200,
      confirmations: 0,
    };
    const logs: unknown[] = [];
    const traffic: unknown[] = [];
    const core = createCore(
      config,
      { info: (msg, fields) => logs.push({ msg, fields }), error: (msg, fields) => logs.push({ msg, fields }) },
      { keychain: new KeytarKeychain(), keychainService: service },
    );
    core.events.subscribe((event, payload) => traffic.push({ event, payload }));
    core.start();
    const machine = { name, dataDir, service, core, traffic, logs };
    machines.push(machine);
    return machine;
  };

  return {
    work,
    chain,
    deploymentFile,
    gateway,
    orchestrator,
    serviceLogs,
    machines,
    startMachine,
    async stopMachine(machine) {
      await machine.core.stop();
    },
    async stop() {
      if (process.env.COS_TEST_DEBUG) {
        console.log(serviceLogs.slice(-80).join('\n'));
        for (const machine of machines) console.log(machine.name, JSON.stringify(machine.logs.slice(-30)));
      }
      for (const machine of machines) {
        await machine.core.stop().catch(() => undefined);
        await removeKeychainService(machine.service).catch(() => undefined);
      }
      await orchestrator?.stop();
      await gateway.stop();
      await chain.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}

export async function ipc<C extends ChannelName>(
  machine: Machine,
  channel: C,
  request: ChannelRequest<C>,
): Promise<ChannelResponse<C>> {
  machine.traffic.push({ channel, request });
  const result = await call(machine.core.router, channel, request);
  machine.traffic.push({ channel, result });
  if (!result.ok)
    throw Object.assign(new Error(`${channel}: ${result.error.code} ${result.error.message}`), result.error);
  return result.value;
}

export async function ipcError<C extends ChannelName>(
  machine: Machine,
  channel: C,
  request: ChannelRequest<C>,
): Promise<IpcError> {
  machine.traffic.push({ channel, request });
  const result = await call(machine.core.router, channel, request);
  machine.traffic.push({ channel, result });
  if (result.ok) throw new Error(`${channel} was expected to fail`);
  return result.error;
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function waitForEvent(
  machine: Machine,
  event: EventName,
  match: (payload: never) => boolean,
  ms = 60_000,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const off = machine.core.events.subscribe((name, payload) => {
      if (name === event && match(payload as never)) {
        clearTimeout(timer);
        off();
        resolve(performance.now());
      }
    });
  });
}
