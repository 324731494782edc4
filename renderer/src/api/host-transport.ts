import type { IpcResult } from '../../../shared/ipc/errors';
import type { Transport } from './transport';

const HOST_PROTOCOL = 'cos.v1';
const TOKEN_PROTOCOL_PREFIX = 'cos-token.';
const TOKEN_KEY = 'cos.hostToken';
const CALL_TIMEOUT_MS = 30_000;

/**
 * Reads the launch token from the URL fragment (never sent to any server), keeps it for reloads of
 * this tab only, and removes it from the address bar.
 */
export function takeHostToken(): string | null {
  const match = /(?:^#|&)token=([0-9a-f]{64})(?:&|$)/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, match[1]);
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return match[1];
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

interface Pending {
  resolve: (result: IpcResult<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
}

export function createHostTransport(token: string): Transport {
  const url = `ws://${window.location.host}/ipc`;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  const queue: string[] = [];
  let socket: WebSocket | null = null;
  let connected = false;
  let nextId = 1;
  let retryMs = 250;

  const setConnected = (value: boolean) => {
    if (connected === value) return;
    connected = value;
    for (const listener of connectionListeners) listener(value);
  };

  const failAll = (message: string) => {
    for (const [id, call] of pending) {
      clearTimeout(call.timer);
      call.resolve({ ok: false, error: { code: 'UNAVAILABLE', message } });
      pending.delete(id);
    }
  };

  const connect = () => {
    const ws = new WebSocket(url, [HOST_PROTOCOL, TOKEN_PROTOCOL_PREFIX + token]);
    socket = ws;
    ws.onopen = () => {
      retryMs = 250;
      setConnected(true);
      for (const frame of queue.splice(0)) ws.send(frame);
    };
    ws.onmessage = (message) => {
      let frame: { id?: unknown; result?: unknown; event?: unknown; payload?: unknown };
      try {
        frame = JSON.parse(String(message.data)) as typeof frame;
      } catch {
        return;
      }
      if (typeof frame.id === 'number') {
        const call = pending.get(frame.id);
        if (!call) return;
        pending.delete(frame.id);
        clearTimeout(call.timer);
        call.resolve(frame.result as IpcResult<unknown>);
      } else if (typeof frame.event === 'string') {
        for (const listener of listeners.get(frame.event) ?? []) listener(frame.payload);
      }
    };
    ws.onclose = () => {
      setConnected(false);
      failAll('Lost the connection to the app core');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5_000);
    };
  };
  connect();

  return {
    kind: 'browser-host',
    invoke: (channel, request) =>
      new Promise((resolve) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `No answer to ${channel} within 30 s` } });
        }, CALL_TIMEOUT_MS);
        pending.set(id, { resolve, timer });
        const frame = JSON.stringify({ id, channel, request });
        if (socket?.readyState === WebSocket.OPEN) socket.send(frame);
        else queue.push(frame);
      }),
    subscribe: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
    onConnectionChange: (listener) => {
      connectionListeners.add(listener);
      listener(connected);
      return () => connectionListeners.delete(listener);
    },
  };
}
