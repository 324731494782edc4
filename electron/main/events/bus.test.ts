import { describe, expect, it, vi } from 'vitest';
import { EventBus } from './bus';

describe('EventBus', () => {
  it('delivers valid payloads to every subscriber until they unsubscribe', () => {
    const bus = new EventBus();
    const a = vi.fn();
    const b = vi.fn();
    const offA = bus.subscribe(a);
    bus.subscribe(b);
    bus.emit('chain.newBlock', { chainId: 31337, blockNumber: 5 });
    offA();
    bus.emit('chain.newBlock', { chainId: 31337, blockNumber: 6 });
    expect(a.mock.calls).toEqual([['chain.newBlock', { chainId: 31337, blockNumber: 5 }]]);
    expect(b).toHaveBeenCalledTimes(2);
  });

  it('drops payloads that break the contract and reports them', () => {
    const onInvalid = vi.fn();
    const bus = new EventBus(onInvalid);
    const listener = vi.fn();
    bus.subscribe(listener);
    bus.emit('chain.newBlock', { chainId: -1, blockNumber: 5 });
    bus.emit('progress', { taskId: '', label: 'x', done: 0, total: null });
    expect(listener).not.toHaveBeenCalled();
    expect(onInvalid).toHaveBeenCalledTimes(2);
  });

  it('strips fields outside the schema before they leave the core', () => {
    const bus = new EventBus();
    const listener = vi.fn();
    bus.subscribe(listener);
    bus.emit('chain.newBlock', { chainId: 1, blockNumber: 2, secret: 'x' } as never);
    expect(listener).toHaveBeenCalledWith('chain.newBlock', { chainId: 1, blockNumber: 2 });
  });
});
