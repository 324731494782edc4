import { useCallback, useEffect, useRef, useState } from 'react';
import type {
  ChannelName,
  ChannelRequest,
  ChannelResponse,
  EventName,
  EventPayload,
} from '../../../shared/ipc/contract';
import type { IpcError } from '../../../shared/ipc/errors';
import { notify } from '../components/notify';
import { useApi } from './context';

export interface QueryState<T> {
  data: T | null;
  error: IpcError | null;
  loading: boolean;
  reload(): void;
}

/**
 * Loads a channel's answer, and again whenever one of `refreshOn` events arrives (e.g. `cache.changed`
 * after new chain events) or `reload()` is called. Keeps the last good data while reloading.
 */
export function useQuery<C extends ChannelName>(
  channel: C,
  request: ChannelRequest<C>,
  options: { refreshOn?: EventName[]; enabled?: boolean; intervalMs?: number } = {},
): QueryState<ChannelResponse<C>> {
  const api = useApi();
  const key = JSON.stringify(request);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const enabled = options.enabled !== false;
  const requestId = `${key}#${tick}`;
  const [state, setState] = useState<{
    data: ChannelResponse<C> | null;
    error: IpcError | null;
    answered: string | null;
  }>({
    data: null,
    error: null,
    answered: null,
  });

  useEffect(() => {
    if (!enabled) return;
    let live = true;
    void api.call(channel, JSON.parse(key) as ChannelRequest<C>).then((result) => {
      if (!live) return;
      setState((previous) =>
        result.ok
          ? { data: result.value, error: null, answered: requestId }
          : { data: previous.data, error: result.error, answered: requestId },
      );
    });
    return () => {
      live = false;
    };
  }, [api, channel, key, requestId, enabled]);

  const refreshOn = (options.refreshOn ?? []).join(',');
  useEffect(() => {
    if (!refreshOn) return;
    const offs = refreshOn.split(',').map((event) => api.on(event as EventName, () => reload()));
    return () => offs.forEach((off) => off());
  }, [api, refreshOn, reload]);

  useEffect(() => {
    if (!options.intervalMs) return;
    const timer = setInterval(reload, options.intervalMs);
    return () => clearInterval(timer);
  }, [options.intervalMs, reload]);

  return { data: state.data, error: state.error, loading: enabled && state.answered !== requestId, reload };
}

export interface ActionState<C extends ChannelName> {
  run(request: ChannelRequest<C>): Promise<ChannelResponse<C> | null>;
  pending: boolean;
  error: IpcError | null;
  result: ChannelResponse<C> | null;
}

/**
 * An action the user starts: pending while it runs, a success toast (when `success` is given) and an
 * error toast with the core's message on failure. `run` resolves to null on failure.
 */
export function useAction<C extends ChannelName>(
  channel: C,
  messages: { success?: string | ((value: ChannelResponse<C>) => string); failure?: string } = {},
): ActionState<C> {
  const api = useApi();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  const [result, setResult] = useState<ChannelResponse<C> | null>(null);
  const messagesRef = useRef(messages);
  useEffect(() => {
    messagesRef.current = messages;
  });
  const run = useCallback(
    async (request: ChannelRequest<C>) => {
      setPending(true);
      setError(null);
      try {
        const answer = await api.call(channel, request);
        if (!answer.ok) {
          setError(answer.error);
          notify({
            kind: 'error',
            title: messagesRef.current.failure ?? 'Something went wrong',
            message: answer.error.message,
          });
          return null;
        }
        setResult(answer.value);
        const success = messagesRef.current.success;
        if (success)
          notify({ kind: 'success', title: typeof success === 'function' ? success(answer.value) : success });
        return answer.value;
      } finally {
        setPending(false);
      }
    },
    [api, channel],
  );
  return { run, pending, error, result };
}

/** Runs `listener` for each core event of that name while mounted. */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): void {
  const api = useApi();
  const ref = useRef(listener);
  useEffect(() => {
    ref.current = listener;
  });
  useEffect(() => api.on(event, (payload) => ref.current(payload)), [api, event]);
}
