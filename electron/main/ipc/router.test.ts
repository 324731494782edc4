import { describe, expect, it, vi } from 'vitest';
import { channels } from '../../../shared/ipc/contract';
import { AppError } from '../../../shared/ipc/errors';
import { channelNames, eventNames } from '../../../shared/ipc/names';
import { events } from '../../../shared/ipc/contract';
import { unavailableHandlersForTests } from '../usecases';
import { createRouter, type Handlers } from './router';

const status = {
  state: 'connected' as const,
  chainId: 31337,
  blockNumber: 12,
  rpcUrl: 'http://127.0.0.1:8545',
  lastError: null,
  updatedAt: 1_700_000_000_000,
};

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  return {
    'app.info': () => ({
      version: '0.1.0',
      runtime: 'browser-host',
      network: { name: 'devnet', chainId: 31337, rpcUrl: 'http://x', deploymentFile: null, contracts: {} },
    }),
    'chain.status': () => status,
    'chain.block': ({ blockNumber }) => ({
      number: blockNumber,
      hash: '0x' + 'ab'.repeat(32),
      timestamp: 5,
      transactionCount: 0,
    }),
    'services.health': () => [],
    ...unavailableHandlersForTests('not under test'),
    ...overrides,
  } as Handlers;
}

describe('IPC contract', () => {
  it('lists every channel and event for the preload, and nothing more', () => {
    expect([...channelNames].sort()).toEqual(Object.keys(channels).sort());
    expect([...eventNames].sort()).toEqual(Object.keys(events).sort());
  });
});

describe('router', () => {
  it('answers a valid request with ok and the validated value', async () => {
    const router = createRouter(handlers());
    await expect(router.dispatch('chain.status', {})).resolves.toEqual({ ok: true, value: status });
    await expect(router.dispatch('chain.block', { blockNumber: 7 })).resolves.toMatchObject({
      ok: true,
      value: { number: 7, transactionCount: 0 },
    });
  });

  it('refuses an unknown channel with UNKNOWN_CHANNEL and runs nothing', async () => {
    const spy = vi.fn();
    const router = createRouter(handlers({ 'chain.status': spy }));
    for (const channel of ['nope', '__proto__', 'constructor', 42, null, 'x'.repeat(10_000)]) {
      const result = await router.dispatch(channel, {});
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('UNKNOWN_CHANNEL');
        expect(result.error.message.length).toBeLessThan(100);
      }
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('refuses malformed requests with BAD_REQUEST naming the field, before the handler runs', async () => {
    const spy = vi.fn();
    const router = createRouter(handlers({ 'chain.block': spy }));
    const cases: unknown[] = [
      { blockNumber: -1 },
      { blockNumber: 1.5 },
      { blockNumber: '3' },
      { blockNumber: 3, extra: true },
      'x',
      [1],
    ];
    for (const request of cases) {
      const result = await router.dispatch('chain.block', request);
      expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      if (!result.ok) expect(result.error.message).toMatch(/^Invalid request for chain\.block: /);
    }
    const missing = await router.dispatch('chain.block', {});
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toContain('blockNumber');
    expect(spy).not.toHaveBeenCalled();
  });

  it('passes typed AppErrors through with their code', async () => {
    const router = createRouter(
      handlers({
        'chain.block': () => {
          throw new AppError('NOT_FOUND', 'Block 99 does not exist yet');
        },
      }),
    );
    await expect(router.dispatch('chain.block', { blockNumber: 99 })).resolves.toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Block 99 does not exist yet' },
    });
  });

  it('hides unexpected errors behind INTERNAL and reports them to the log hook', async () => {
    const onInternalError = vi.fn();
    const router = createRouter(
      handlers({
        'chain.status': () => {
          throw new Error('secret detail /home/user/.keys');
        },
      }),
      { onInternalError },
    );
    const result = await router.dispatch('chain.status', {});
    expect(result).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'Internal error while handling chain.status' },
    });
    expect(JSON.stringify(result)).not.toContain('secret detail');
    expect(onInternalError).toHaveBeenCalledWith('chain.status', expect.any(Error));
  });

  it('refuses to send a response that breaks the contract', async () => {
    const router = createRouter(handlers({ 'chain.status': () => ({ ...status, chainId: 'one' }) as never }));
    await expect(router.dispatch('chain.status', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'BAD_RESPONSE' },
    });
  });

  it('strips fields the contract does not name from responses', async () => {
    const router = createRouter(handlers({ 'chain.status': () => ({ ...status, privateKey: '0xdead' }) as never }));
    const result = await router.dispatch('chain.status', {});
    expect(result.ok).toBe(true);
    expect(JSON.stringify(result)).not.toContain('privateKey');
  });
});
