import { describe, expect, it, vi } from 'vitest';
import { methodName } from '../../shared/ipc/api';
import { channelNames } from '../../shared/ipc/names';
import { buildBridgeApi } from './bridge';

describe('preload bridge', () => {
  const transport = {
    invoke: vi.fn(async (_channel: string, _request: unknown) => ({ ok: true, value: 1 })),
    subscribe: vi.fn((_event: string, _listener: (payload: unknown) => void) => () => undefined),
  };
  const api = buildBridgeApi(transport);

  it('exposes exactly one named method per contract channel plus on()', () => {
    expect(Object.keys(api).sort()).toEqual([...channelNames.map((channel) => methodName(channel)), 'on'].sort());
    expect(Object.keys(api)).toEqual(
      expect.arrayContaining(['appInfo', 'chainBlock', 'datasetsImport', 'auditVerify']),
    );
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('sends each method to its own channel', async () => {
    await (api.chainBlock as (r: unknown) => Promise<unknown>)({ blockNumber: 3 });
    await (api.chainStatus as (r?: unknown) => Promise<unknown>)();
    expect(transport.invoke.mock.calls).toEqual([
      ['chain.block', { blockNumber: 3 }],
      ['chain.status', {}],
    ]);
  });

  it('subscribes only to contract events', () => {
    const on = api.on as (event: string, listener: unknown) => unknown;
    expect(() => on('ipc:raw-anything', () => undefined)).toThrow(/Unknown event/);
    expect(() => on('chain.newBlock', 'not a function')).toThrow(/listener/);
    on('chain.newBlock', () => undefined);
    expect(transport.subscribe).toHaveBeenCalledTimes(1);
    expect(transport.subscribe.mock.calls[0]?.[0]).toBe('chain.newBlock');
  });
});
