import { create } from 'zustand';
import type { AppInfo, ChainStatus, ServiceHealth } from '../../../shared/ipc/contract';
import type { IpcError } from '../../../shared/ipc/errors';
import type { ApiClient } from '../api/client';

export interface ChainState {
  coreConnected: boolean;
  status: ChainStatus | null;
  appInfo: AppInfo | null;
  services: ServiceHealth[];
  error: IpcError | null;
  /** Subscribes to core events and loads the first snapshot; returns the unsubscribe. */
  connect(api: ApiClient): () => void;
  refreshServices(api: ApiClient): Promise<void>;
}

export const useChainStore = create<ChainState>()((set, get) => ({
  coreConnected: false,
  status: null,
  appInfo: null,
  services: [],
  error: null,

  connect(api) {
    const load = async () => {
      const [status, info] = await Promise.all([api.call('chain.status', {}), api.call('app.info', {})]);
      if (status.ok) set({ status: status.value });
      if (info.ok) set({ appInfo: info.value });
      const failure = !status.ok ? status.error : !info.ok ? info.error : null;
      set({ error: failure });
      await get().refreshServices(api);
    };
    const offs = [
      api.on('chain.status', (status) => set({ status })),
      api.on('chain.newBlock', ({ chainId, blockNumber }) => {
        const current = get().status;
        if (current) set({ status: { ...current, chainId, blockNumber, state: 'connected' } });
      }),
      api.onConnectionChange((connected) => {
        set({ coreConnected: connected });
        if (connected) void load();
      }),
    ];
    const timer = setInterval(() => void get().refreshServices(api), 10_000);
    return () => {
      clearInterval(timer);
      for (const off of offs) off();
    };
  },

  async refreshServices(api) {
    const result = await api.call('services.health', {});
    if (result.ok) set({ services: result.value });
  },
}));

export const chainSelectors = {
  connectionLabel: (s: ChainState): string => {
    if (!s.coreConnected) return 'Core offline';
    switch (s.status?.state) {
      case 'connected':
        return 'Connected';
      case 'disconnected':
        return 'Chain unreachable';
      default:
        return 'Connecting';
    }
  },
  connectionColor: (s: ChainState): string =>
    !s.coreConnected
      ? 'red'
      : s.status?.state === 'connected'
        ? 'teal'
        : s.status?.state === 'disconnected'
          ? 'red'
          : 'yellow',
};
