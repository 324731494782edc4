import type { IpcResult } from '../../../shared/ipc/errors';

/** How the renderer reaches the core: the Electron preload bridge or the browser host's WebSocket. */
export interface Transport {
  readonly kind: 'electron' | 'browser-host';
  invoke(channel: string, request: unknown): Promise<IpcResult<unknown>>;
  subscribe(event: string, listener: (payload: unknown) => void): () => void;
  /** Transport-level connection to the core (not the chain); the host's socket can drop. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}
