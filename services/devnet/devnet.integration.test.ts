import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, type Signer } from 'ethers';
import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../shared/deployment';
import { deployContracts } from '../../contracts/script/deploy';
import { type CosContractAddresses, connectCosContracts } from '../../shared/contracts';
import { attestDevnetOrchestrator, startDevnet } from './devnet';
import {
  DEVNET_OPERATORS,
  DEVNET_ORCHESTRATOR_REGION,
  REGION_RENEW_BEFORE_SECONDS,
  ensureRegionAttestation,
  regionCode,
} from './operators';

// Init code that deploys a one-byte runtime (STOP): enough to test deployment bookkeeping on its own.
const TINY_CONTRACT = '0x6001600c60003960016000f300';

async function deployTiny(signer: Signer): Promise<Record<string, string>> {
  const tx = await signer.sendTransaction({ data: TINY_CONTRACT });
  const receipt = await tx.wait();
  return { Tiny: receipt!.contractAddress! };
}

function anvilChildren(): string[] {
  const out = execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((name) => name.trim() === 'anvil');
}

describe('devnet', () => {
  it('deploys once, keeps the chain across restarts, and redeploys when the chain state is gone', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-devnet-'));
    let deploys = 0;
    const deploy = async (signer: Signer) => {
      deploys += 1;
      return deployTiny(signer);
    };

    const first = await startDevnet({ dataDir, deploy, blockTime: 1 });
    expect(first.reused).toBe(false);
    expect(anvilChildren()).toHaveLength(1);
    const file = path.join(dataDir, 'devnet', 'deployment.json');
    const written = parseDeployment(readFileSync(file, 'utf8'), file);
    expect(written).toMatchObject({ network: 'devnet', chainId: 31337, rpcUrl: first.rpcUrl });
    expect(written.contracts.Tiny).toMatch(/^0x[0-9a-fA-F]{40}$/);
    await first.stop();

    const second = await startDevnet({ dataDir, deploy, blockTime: 1 });
    expect(second.reused).toBe(true);
    expect(second.deployment.contracts).toEqual(written.contracts);
    expect(deploys).toBe(1);
    await second.stop();

    // Chain state lost (deleted by hand): the saved addresses hold no code any more, so deploy again.
    rmSync(path.join(dataDir, 'devnet', 'chain-state.json'));
    const third = await startDevnet({ dataDir, deploy, blockTime: 1 });
    expect(third.reused).toBe(false);
    expect(deploys).toBe(2);
    await third.stop();
  });

  it('refuses a corrupt deployment file with a clear error and leaves no chain running', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-devnet-'));
    const first = await startDevnet({ dataDir, deploy: deployTiny });
    await first.stop();
    writeFileSync(path.join(dataDir, 'devnet', 'deployment.json'), '{"network": 3}');
    await expect(startDevnet({ dataDir, deploy: deployTiny })).rejects.toThrow(/not a valid deployment file: network/);
    await expect.poll(() => anvilChildren()).toEqual([]);
  });

  it('attests the orchestrator account in its region, and renews the attestation only when it nears expiry', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-devnet-'));
    const devnet = await startDevnet({
      dataDir,
      deploy: async (signer) => {
        const contracts = await deployContracts(signer, {
          devRoles: {
            gateway: DEVNET_OPERATORS.gateway,
            orchestrator: DEVNET_OPERATORS.orchestrator,
            regionOracle: await signer.getAddress(),
          },
        });
        return { ...contracts } as Record<string, string>;
      },
    });
    const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1 });
    try {
      const contracts = devnet.deployment.contracts as CosContractAddresses;
      const identity = connectCosContracts(contracts, provider).IdentitySBT;
      const sbtId = await identity.sbtOf(DEVNET_OPERATORS.orchestrator);
      const ch = regionCode(DEVNET_ORCHESTRATOR_REGION);
      expect(ch).toBe('0x4348');
      expect(await identity.isInRegion(sbtId, ch)).toBe(false);

      // An attestation about to expire (inside the renewal window) ...
      const oracle = await provider.getSigner(0);
      const short = REGION_RENEW_BEFORE_SECONDS / 2;
      const options = { provider, contracts, chainId: devnet.chainId, oracle, account: DEVNET_OPERATORS.orchestrator };
      expect(await ensureRegionAttestation({ ...options, alpha2: 'CH', validitySeconds: short })).toBe(true);
      expect(await identity.isInRegion(sbtId, ch)).toBe(true);
      const [, , shortUntil] = await identity.identityOf(sbtId);
      // ... is renewed on the next start, then left alone.
      await provider.send('evm_increaseTime', [2]);
      expect(await attestDevnetOrchestrator(devnet)).toBe(true);
      const [, code, until] = await identity.identityOf(sbtId);
      expect(code).toBe(ch);
      expect(until).toBeGreaterThan(shortUntil);
      expect(await attestDevnetOrchestrator(devnet)).toBe(false);
      await expect(ensureRegionAttestation({ ...options, alpha2: 'ch' })).rejects.toThrow(/alpha-2/);
    } finally {
      provider.destroy();
      await devnet.stop();
    }
  });
});
