import type { ChainStatus } from '../../../shared/ipc/contract';
import type { EventBus } from '../events/bus';
import type { RpcClient } from './rpc';

export interface ChainMonitorOptions {
  pollIntervalMs?: number;
  /** Longest wait between attempts while the node is unreachable. */
  maxBackoffMs?: number;
}

/**
 * Follows the chain head: emits chain.newBlock for each new head and chain.status whenever the
 * connection state changes; backs off while the node is unreachable and recovers on its own.
 */
export class ChainMonitor {
  private status: ChainStatus;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = true;

  constructor(
    private readonly rpc: RpcClient,
    private readonly bus: EventBus,
    private readonly options: ChainMonitorOptions = {},
  ) {
    this.status = {
      state: 'connecting',
      chainId: null,
      blockNumber: null,
      rpcUrl: rpc.url,
      lastError: null,
      updatedAt: Date.now(),
    };
  }

  current(): ChainStatus {
    return { ...this.status };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One poll; exposed so tests can step the monitor without timers. */
  async tick(): Promise<void> {
    try {
      const chainId = this.status.chainId ?? (await this.rpc.chainId());
      const blockNumber = await this.rpc.blockNumber();
      const stateChanged = this.status.state !== 'connected';
      const advanced = blockNumber !== this.status.blockNumber;
      this.failures = 0;
      this.status = {
        ...this.status,
        state: 'connected',
        chainId,
        blockNumber,
        lastError: null,
        updatedAt: Date.now(),
      };
      if (advanced) this.bus.emit('chain.newBlock', { chainId, blockNumber });
      if (stateChanged || advanced) this.bus.emit('chain.status', this.current());
    } catch (error) {
      this.failures += 1;
      const wasConnected = this.status.state !== 'disconnected';
      // A different node may answer after a reconnect; learn the chain id again.
      this.status = {
        ...this.status,
        state: 'disconnected',
        chainId: null,
        lastError: (error as Error).message,
        updatedAt: Date.now(),
      };
      if (wasConnected) this.bus.emit('chain.status', this.current());
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const base = this.options.pollIntervalMs ?? 1_000;
    const delay = this.failures === 0 ? base : Math.min(base * 2 ** this.failures, this.options.maxBackoffMs ?? 15_000);
    this.timer = setTimeout(() => void this.tick(), delay);
  }
}
