/** Types of anvil.mjs (a throwaway anvil chain for contract tools and tests). */
export interface ThrowawayAnvil {
  rpcUrl: string;
  stop(): Promise<void>;
}

export function anvilBinary(): string;

export function startAnvil(options?: { args?: string[]; timeoutMs?: number }): Promise<ThrowawayAnvil>;
