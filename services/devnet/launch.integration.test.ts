import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLauncher } from '../../e2e/support/launcher';
import { parseDeployment } from '../../shared/deployment';

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
      const again = parseDeployment(readFileSync(deploymentFile, 'utf8'), deploymentFile);
      expect(again.contracts).toEqual(deployment.contracts);
      expect(await blockNumber(again.rpcUrl!)).toBeGreaterThanOrEqual(lastBlock);
    } finally {
      expect(await second.interrupt()).toBe(0);
    }
  });
});
