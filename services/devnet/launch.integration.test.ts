import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLauncher } from '../../e2e/support/launcher';
import { JsonRpcProvider } from 'ethers';
import { type CosContractAddresses, ROLE, connectCosContracts } from '../../shared/contracts';
import { parseDeployment } from '../../shared/deployment';
import { DEVNET_OPERATORS, DEVNET_ORCHESTRATOR_REGION, regionCode } from './operators';

async function isListening(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

async function blockNumber(rpcUrl: string): Promise<number> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
  });
  return Number(((await res.json()) as { result: string }).result);
}

describe('npm start launcher', () => {
  it('starts chain, contracts and services; Ctrl-C stops every child; a second start reuses the chain', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-launch-'));
    const first = await startLauncher(dataDir);
    expect(first.output()).toContain('contracts deployed');
    const deploymentFile = path.join(dataDir, 'devnet', 'deployment.json');
    const deployment = parseDeployment(readFileSync(deploymentFile, 'utf8'), deploymentFile);
    expect(deployment.chainId).toBe(31337);
    const urls = [...first.output().matchAll(/(gateway|orchestrator) at (http:\/\/127\.0\.0\.1:\d+)/g)].map(
      (m) => m[2]!,
    );
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
      expect(health.status).toBe('ok');
    }
    // The orchestrator runs on its own account (#2), configured for work and attested in the devnet region.
    expect(first.output()).toContain(`orchestrator attested in region ${DEVNET_ORCHESTRATOR_REGION}`);
    const orchestratorHealth = (await (await fetch(`${urls[1]}/health`)).json()) as Record<string, unknown>;
    expect(orchestratorHealth).toMatchObject({
      chain: 'ok',
      account: DEVNET_OPERATORS.orchestrator,
      chainId: 31337,
      orchestratorRole: true,
    });
    const provider = new JsonRpcProvider(deployment.rpcUrl!, 31337, { staticNetwork: true });
    try {
      const identity = connectCosContracts(deployment.contracts as CosContractAddresses, provider).IdentitySBT;
      const [gatewaySbt, gatewayRoles] = await identity.rolesOf(DEVNET_OPERATORS.gateway);
      expect(gatewayRoles).toBe(BigInt(ROLE.GATEWAY));
      const [orchestratorSbt, orchestratorRoles] = await identity.rolesOf(DEVNET_OPERATORS.orchestrator);
      expect(orchestratorRoles).toBe(BigInt(ROLE.ORCHESTRATOR));
      expect(orchestratorHealth.sbtId).toBe(orchestratorSbt.toString());
      expect(gatewaySbt).not.toBe(orchestratorSbt);
      expect(await identity.isInRegion(orchestratorSbt, regionCode(DEVNET_ORCHESTRATOR_REGION))).toBe(true);
    } finally {
      provider.destroy();
    }
    const rpcUrl = deployment.rpcUrl!;
    const hostOrigin = new URL(first.url).origin;
    await expect.poll(() => blockNumber(rpcUrl), { timeout: 10_000 }).toBeGreaterThan(deployment.deployedAtBlock);
    const lastBlock = await blockNumber(rpcUrl);

    expect(await first.interrupt()).toBe(0);
    expect(first.output()).toContain('cos: stopped');
    for (const url of [rpcUrl, hostOrigin, ...urls]) expect(await isListening(url)).toBe(false);
    expect(existsSync(path.join(dataDir, 'devnet', 'chain-state.json'))).toBe(true);

    const second = await startLauncher(dataDir);
    try {
      expect(second.output()).toContain('state reused');
      // The attestation is still far from expiry: not renewed.
      expect(second.output()).not.toContain('orchestrator attested in region');
      const again = parseDeployment(readFileSync(deploymentFile, 'utf8'), deploymentFile);
      expect(again.contracts).toEqual(deployment.contracts);
      expect(await blockNumber(again.rpcUrl!)).toBeGreaterThanOrEqual(lastBlock);
    } finally {
      expect(await second.interrupt()).toBe(0);
    }
  });
});
