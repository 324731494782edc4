import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JsonRpcProvider, type Signer } from 'ethers';
import { parseDeployment, type Deployment } from '../../shared/deployment';
import { type CosContractAddresses } from '../../shared/contracts';
import { startAnvil, type Anvil } from './anvil';
import { DEVNET_OPERATORS, DEVNET_ORCHESTRATOR_REGION, ensureRegionAttestation } from './operators';

export const DEVNET_CHAIN_ID = 31337;

export type DeployFn = (deployer: Signer, log: (line: string) => void) => Promise<Record<string, string>>;

export interface DevnetOptions {
  /** The app's data folder; the chain state and deployment file live in its devnet/ subfolder. */
  dataDir: string;
  port?: number;
  /** Seconds between blocks (default 1); the chain keeps moving so the app always sees fresh blocks. */
  blockTime?: number;
  deploy: DeployFn;
  log?: (line: string) => void;
}

export interface Devnet {
  anvil: Anvil;
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  deploymentFile: string;
  /** True when the chain state and deployment were reused from an earlier start. */
  reused: boolean;
  stop(): Promise<void>;
}

async function writeFileAtomic(file: string, contents: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, file);
}

async function deploymentStillLive(provider: JsonRpcProvider, deployment: Deployment): Promise<boolean> {
  const chainId = Number(await provider.send('eth_chainId', []));
  if (chainId !== deployment.chainId) return false;
  const entries = Object.values(deployment.contracts);
  if (entries.length === 0) return false;
  const codes = await Promise.all(entries.map((address) => provider.getCode(address)));
  return codes.every((code) => code !== '0x');
}

export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const log = options.log ?? (() => undefined);
  const dir = path.join(options.dataDir, 'devnet');
  await mkdir(dir, { recursive: true });
  const stateFile = path.join(dir, 'chain-state.json');
  const deploymentFile = path.join(dir, 'deployment.json');
  const blockTime = options.blockTime ?? 1;

  const anvil = await startAnvil({ port: options.port ?? 0, stateFile, blockTime, chainId: DEVNET_CHAIN_ID, log });
  const provider = new JsonRpcProvider(anvil.rpcUrl, DEVNET_CHAIN_ID, { staticNetwork: true, pollingInterval: 250 });
  try {
    let deployment: Deployment | null = null;
    if (existsSync(deploymentFile)) {
      const previous = parseDeployment(await readFile(deploymentFile, 'utf8'), deploymentFile);
      if (await deploymentStillLive(provider, previous)) deployment = previous;
      else log('devnet: the saved deployment is not on this chain any more; deploying afresh');
    }
    const reused = deployment !== null;
    if (!deployment) {
      // Mine each deployment transaction at once, then return to interval mining.
      await provider.send('evm_setAutomine', [true]);
      const signer = await provider.getSigner(0);
      const contracts = await options.deploy(signer, log);
      const deployedAtBlock = await provider.getBlockNumber();
      await provider.send('evm_setIntervalMining', [blockTime]);
      deployment = {
        network: 'devnet',
        chainId: DEVNET_CHAIN_ID,
        deployedAtBlock,
        deployer: await signer.getAddress(),
        contracts,
        createdAt: new Date().toISOString(),
      };
    }
    deployment = { ...deployment, rpcUrl: anvil.rpcUrl };
    await writeFileAtomic(deploymentFile, JSON.stringify(deployment, null, 2) + '\n');
    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      chainId: DEVNET_CHAIN_ID,
      deployment,
      deploymentFile,
      reused,
      stop: () => anvil.stop(),
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  } finally {
    provider.destroy();
  }
}

/**
 * Attests the devnet orchestrator (account #2) in DEVNET_ORCHESTRATOR_REGION with the deployer (account #0, the
 * region oracle) when it has no attestation or one near expiry. Returns whether it submitted one.
 */
export async function attestDevnetOrchestrator(devnet: Pick<Devnet, 'rpcUrl' | 'chainId' | 'deployment'>) {
  const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, pollingInterval: 250 });
  try {
    return await ensureRegionAttestation({
      provider,
      contracts: devnet.deployment.contracts as CosContractAddresses,
      chainId: devnet.chainId,
      oracle: await provider.getSigner(0),
      account: DEVNET_OPERATORS.orchestrator,
      alpha2: DEVNET_ORCHESTRATOR_REGION,
    });
  } finally {
    provider.destroy();
  }
}
