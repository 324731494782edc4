import { methodName } from '../../shared/ipc/api';
import { channelNames, eventNames } from '../../shared/ipc/names';

export interface BridgeTransport {
  invoke(channel: string, request: unknown): Promise<unknown>;
  subscribe(event: string, listener: (payload: unknown) => void): () => void;
}

/**
 * The object exposed as `window.cos`: one named method per contract channel and `on` for contract
 * events. Unknown event names are refused, so the page cannot listen on arbitrary IPC channels.
 */
export function buildBridgeApi(transport: BridgeTransport): Record<string, unknown> {
  const api: Record<string, unknown> = {};
  for (const channel of channelNames) {
    api[methodName(channel)] = (request: unknown) => transport.invoke(channel, request ?? {});
  }
  const known = new Set<string>(eventNames);
  api.on = (event: string, listener: (payload: unknown) => void) => {
    if (!known.has(event)) throw new Error(`Unknown event: ${String(event)}`);
    if (typeof listener !== 'function') throw new Error('listener must be a function');
    return transport.subscribe(event, listener);
  };
  return Object.freeze(api);
}
