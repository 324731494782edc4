import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Signer } from 'ethers';
import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../shared/deployment';
import { startDevnet } from './devnet';

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
});
