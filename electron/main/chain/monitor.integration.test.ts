import { afterEach, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../../../services/devnet/anvil';
import { EventBus } from '../events/bus';
import { ChainMonitor } from './monitor';
import { RpcClient } from './rpc';

let anvil: Anvil | null = null;
afterEach(async () => {
  await anvil?.stop();
  anvil = null;
});

function recorder(bus: EventBus) {
  const seen: { event: string; payload: unknown }[] = [];
  bus.subscribe((event, payload) => seen.push({ event, payload }));
  return seen;
}

describe('chain monitor on a real anvil', () => {
  it('reports the head, each new block, a lost node and its recovery', async () => {
    anvil = await startAnvil({ chainId: 31337 });
    const rpc = new RpcClient(anvil.rpcUrl, 2_000);
    const bus = new EventBus();
    const seen = recorder(bus);
    const monitor = new ChainMonitor(rpc, bus);

    await monitor.tick();
    expect(monitor.current()).toMatchObject({ state: 'connected', chainId: 31337, blockNumber: 0, lastError: null });

    await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0x3'] }),
    });
    await monitor.tick();
    expect(monitor.current().blockNumber).toBe(3);
    expect(seen.filter((s) => s.event === 'chain.newBlock').map((s) => s.payload)).toEqual([
      { chainId: 31337, blockNumber: 0 },
      { chainId: 31337, blockNumber: 3 },
    ]);

    // An unchanged head emits nothing new.
    const before = seen.length;
    await monitor.tick();
    expect(seen.length).toBe(before);

    const block = await rpc.block(3);
    expect(block).toMatchObject({ number: 3, transactionCount: 0 });
    expect(block.hash).toMatch(/^0x[0-9a-f]{64}$/);
    await expect(rpc.block(999)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const port = anvil.port;
    await anvil.stop();
    await monitor.tick();
    expect(monitor.current()).toMatchObject({ state: 'disconnected', chainId: null });
    expect(monitor.current().lastError).toMatch(/unreachable/);
    expect(seen.at(-1)).toMatchObject({ event: 'chain.status', payload: { state: 'disconnected' } });

    anvil = await startAnvil({ chainId: 31337, port });
    await monitor.tick();
    expect(monitor.current()).toMatchObject({ state: 'connected', chainId: 31337, blockNumber: 0 });
    monitor.stop();
  });
});
