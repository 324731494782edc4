import { methodName } from '../../../shared/ipc/api';
import type { IpcResult } from '../../../shared/ipc/errors';
import type { Transport } from './transport';

type Bridge = Record<string, ((request: unknown) => Promise<IpcResult<unknown>>) | undefined> & {
  on(event: string, listener: (payload: unknown) => void): () => void;
};

export function electronBridge(): Bridge | null {
  const candidate = (window as unknown as { cos?: Bridge }).cos;
  return candidate && typeof candidate.on === 'function' ? candidate : null;
}

export function createElectronTransport(bridge: Bridge): Transport {
  return {
    kind: 'electron',
    invoke: (channel, request) => {
      const method = bridge[methodName(channel)];
      if (!method) {
        return Promise.resolve({
          ok: false,
          error: { code: 'UNKNOWN_CHANNEL', message: `No bridge method for ${channel}` },
        });
      }
      return method(request);
    },
    subscribe: (event, listener) => bridge.on(event, listener),
    onConnectionChange: (listener) => {
      listener(true);
      return () => undefined;
    },
  };
}
