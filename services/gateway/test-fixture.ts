/**
 * A real chain and a real gateway process for the gateway's integration tests and benchmark: anvil, the
 * contracts deployed with contracts/script/deploy.ts, identities, a dataset whose manifest and objects
 * are stored through the gateway, and `node --import tsx services/gateway/main.ts` as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet, id, type JsonRpcSigner } from 'ethers';
import { deployContracts } from '../../contracts/script/deploy';
import {
  BurnAuth,
  OP,
  ROLE,
  connectCosContracts,
  type CosContractAddresses,
  type CosContracts,
} from '../../shared/contracts';
import { fheParamsHash, parameterSetHash } from '../../shared/fhe/parameters';
import { genotypeLayout, planGenotypeLanes } from '../../shared/fhe/layout';
import { manifestJson, type FheManifest } from '../../shared/fhe/manifest';
import { startAnvil, type Anvil } from '../devnet/anvil';

/** anvil's account #1: the devnet gateway key (public test key, never a real secret). */
export const GATEWAY_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export const ACCOUNTS = ['deployer', 'gateway', 'orchestrator', 'steward', 'lab', 'outsider'] as const;
export type AccountName = (typeof ACCOUNTS)[number];

export const PURPOSE = id('cos.purpose:DUO:0000006 HMB; gateway test');
export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface TestChain {
  anvil: Anvil;
  provider: JsonRpcProvider;
  chainId: number;
  contracts: CosContractAddresses;
  signers: Record<AccountName, JsonRpcSigner>;
  deploymentFile: string;
  dir: string;
  as(name: AccountName): CosContracts;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

export async function mined(tx: Promise<{ wait(): Promise<{ status: number | null } | null> }>): Promise<void> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error('transaction failed');
}

export async function startTestChain(): Promise<TestChain> {
  const anvil = await startAnvil({ chainId: 31337 });
  const provider = new JsonRpcProvider(anvil.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 50 });
  const signers = {} as Record<AccountName, JsonRpcSigner>;
  for (const [index, name] of ACCOUNTS.entries()) signers[name] = await provider.getSigner(index);
  if ((await signers.gateway.getAddress()) !== new Wallet(GATEWAY_KEY).address)
    throw new Error('unexpected anvil accounts');
  const deployer = await signers.deployer.getAddress();
  const contracts = (await deployContracts(signers.deployer, {
    devRoles: {
      gateway: await signers.gateway.getAddress(),
      orchestrator: await signers.orchestrator.getAddress(),
      regionOracle: deployer,
    },
  })) as CosContractAddresses;
  const as = (name: AccountName) => connectCosContracts(contracts, signers[name]);
  await mined(as('deployer').IdentitySBT.issue(await signers.steward.getAddress(), ROLE.STEWARD, BurnAuth.Both));
  await mined(as('lab').IdentitySBT.register(ROLE.LAB));
  await mined(as('outsider').IdentitySBT.register(ROLE.LAB));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-gateway-test-'));
  const deploymentFile = path.join(dir, 'deployment.json');
  writeFileSync(
    deploymentFile,
    JSON.stringify({
      network: 'anvil',
      chainId: 31337,
      rpcUrl: anvil.rpcUrl,
      deployedAtBlock: 0,
      deployer,
      contracts,
      createdAt: new Date().toISOString(),
    }),
  );
  return {
    anvil,
    provider,
    chainId: 31337,
    contracts,
    signers,
    deploymentFile,
    dir,
    as,
    rpc: async <T>(method: string, params: unknown[] = []) => (await provider.send(method, params)) as T,
    async stop() {
      provider.destroy();
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GatewayProcess {
  url: string;
  process: ChildProcess;
  logs: string[];
  /** SIGTERM, waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown at all. */
  kill9(): Promise<void>;
}

export async function startGatewayProcess(
  chain: TestChain,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const entry = path.resolve('services', 'gateway', 'main.ts');
  // GATEWAY_NODE_ARGS: extra node flags for the gateway process only (e.g. --cpu-prof for profiling).
  const nodeArgs = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
    env: {
      ...process.env,
      COS_GATEWAY_RPC_URL: chain.anvil.rpcUrl,
      COS_GATEWAY_DEPLOYMENT_FILE: chain.deploymentFile,
      COS_GATEWAY_DATA_DIR: dataDir,
      COS_GATEWAY_PRIVATE_KEY: GATEWAY_KEY,
      COS_GATEWAY_FLUSH_INTERVAL_MS: '100',
      COS_GATEWAY_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start: ${logs.join('\n')}`));
    }, 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        logs.push(line);
        try {
          const record = JSON.parse(line) as { msg?: string; url?: string };
          if (record.msg === 'listening' && record.url) {
            clearTimeout(timer);
            resolve(record.url);
          }
        } catch {
          // not a structured line
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(`stderr: ${chunk.toString()}`));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before it was ready: ${logs.join('\n')}`));
    });
  });
  return {
    url,
    process: child,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A consistent manifest over real (random) objects: a variants table and one genotypes object per sample. */
export function buildDataset(samples: number, objectBytes = 2048) {
  const variants = Buffer.from('index\tCHROM\tPOS\tID\tREF\tALT\n0\t1\t1000\trs1\tA\tG\n');
  const genotypes = Array.from({ length: samples }, () => randomBytes(objectBytes));
  const manifest: FheManifest = {
    format: 'cos.fhe.manifest.v1',
    fheParamsHash: fheParamsHash({ genotypes: 'bfv-n4096-t60', numeric: null }),
    parameterSets: { genotypes: { id: 'bfv-n4096-t60', hash: parameterSetHash('bfv-n4096-t60') }, numeric: null },
    sampleCount: samples,
    snpCount: 1,
    donorConsentIds: Array.from({ length: samples }, (_, i) => String(100 + i)),
    genotypeLayout: genotypeLayout(planGenotypeLanes('bfv-n4096-t60', samples), 1),
    numericLayout: null,
    objects: [
      { kind: 'variants', digest: sha256(variants), size: variants.length },
      ...genotypes.map((bytes, sampleIndex) => ({
        kind: 'genotypes' as const,
        sampleIndex,
        digest: sha256(bytes),
        size: bytes.length,
      })),
    ],
  };
  const manifestBytes = Buffer.from(manifestJson(manifest), 'utf8');
  const keys = randomBytes(4096);
  return { manifest, manifestBytes, keys, objects: [variants, ...genotypes] };
}

/** Registers a dataset (commitments from the bytes), a lab request and a grant; returns the ids. */
export async function registerAndGrant(
  chain: TestChain,
  data: { manifestBytes: Uint8Array; keys: Uint8Array },
  terms: { opMask: number; maxRuns: number; epsilonCap?: number },
): Promise<{ datasetId: bigint; grantId: bigint }> {
  const { as } = chain;
  await mined(
    as('steward').DatasetRegistry.registerDataset({
      manifestCommitment: `0x${sha256(data.manifestBytes)}`,
      resourceURI: 'cos://gateway/datasets/test/manifest.json',
      fheParamsHash: fheParamsHash({ genotypes: 'bfv-n4096-t60', numeric: null }),
      fheKeyFingerprint: `0x${sha256(data.keys)}`,
      consentCodes: 2,
      consentRoot: id('consent root'),
      donorCount: 1,
      royaltyReceiver: '0x0000000000000000000000000000000000000000',
      royaltyBps: 0,
    }),
  );
  const datasetId = await as('steward').DatasetRegistry.datasetCount();
  await mined(as('lab').DataAccess.request(datasetId, terms.opMask, PURPOSE, 2));
  const grantId = await as('lab').DataAccess.grantCount();
  const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp);
  await mined(
    as('steward').DataAccess.grant(grantId, {
      opMask: terms.opMask,
      notBefore: now,
      expiry: now + 30n * 86_400n,
      maxRuns: terms.maxRuns,
      rateWindow: 0,
      rateMaxRuns: 0,
      regionCode: '0x0000',
      epsilonCap: terms.epsilonCap ?? 0,
      deltaCap: terms.epsilonCap ? 10n ** 12n : 0,
      termsHash: id('cos.terms:v1'),
      keySwitchAllowed: false,
      feePerUse: 0,
      ownerBps: 10_000,
      donorsBps: 0,
      platformBps: 0,
    }),
  );
  return { datasetId, grantId };
}

export { OP };
