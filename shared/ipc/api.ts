import type { ChannelName, ChannelRequest, ChannelResponse, EventName, EventPayload } from './contract';
import type { IpcResult } from './errors';

/** Method name on the bridge for a channel: 'chain.status' -> 'chainStatus'. */
export type MethodName<C extends string> = C extends `${infer Head}.${infer Tail}`
  ? `${Head}${Capitalize<MethodName<Tail>>}`
  : C;

export function methodName<C extends string>(channel: C): MethodName<C> {
  return channel.replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase()) as MethodName<C>;
}

/** What the preload exposes as `window.cos` and what the browser-host client implements. */
export type CosApi = {
  [C in ChannelName as MethodName<C>]: (request: ChannelRequest<C>) => Promise<IpcResult<ChannelResponse<C>>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
};
