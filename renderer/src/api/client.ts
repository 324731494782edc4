import type {
  ChannelName,
  ChannelRequest,
  ChannelResponse,
  EventName,
  EventPayload,
} from '../../../shared/ipc/contract';
import type { IpcResult } from '../../../shared/ipc/errors';
import { createElectronTransport, electronBridge } from './electron-transport';
import { createHostTransport, takeHostToken } from './host-transport';
import type { Transport } from './transport';

/** The renderer's only door to the core; types come from the shared contract. */
export interface ApiClient {
  readonly runtime: Transport['kind'];
  call<C extends ChannelName>(channel: C, request: ChannelRequest<C>): Promise<IpcResult<ChannelResponse<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

export class MissingTokenError extends Error {}

export function createApiClient(): ApiClient {
  let transport: Transport;
  const bridge = electronBridge();
  if (bridge) {
    transport = createElectronTransport(bridge);
  } else {
    const token = takeHostToken();
    if (!token)
      throw new MissingTokenError('Open the app with the URL printed by `npm start` (it carries the access token).');
    transport = createHostTransport(token);
  }
  return {
    runtime: transport.kind,
    call: (channel, request) =>
      transport.invoke(channel, request) as Promise<IpcResult<ChannelResponse<typeof channel>>>,
    on: (event, listener) => transport.subscribe(event, listener as (payload: unknown) => void),
    onConnectionChange: (listener) => transport.onConnectionChange(listener),
  };
}
