import { z } from 'zod';
import { AppError } from '../../../shared/ipc/errors';

const quantity = z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a hex quantity');

const rpcReply = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: z.number(), result: z.unknown() }),
  z.object({
    jsonrpc: z.literal('2.0'),
    id: z.number().nullable(),
    error: z.object({ code: z.number(), message: z.string() }),
  }),
]);

export const blockSchema = z.object({
  number: quantity,
  hash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  timestamp: quantity,
  transactions: z.array(z.unknown()),
});

/**
 * A small JSON-RPC client for status queries: every reply is validated, every call has a timeout,
 * and failures come back as typed UNAVAILABLE errors rather than provider retry noise.
 */
export class RpcClient {
  private nextId = 1;

  constructor(
    readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async call<T>(method: string, params: unknown[], schema: z.ZodType<T>): Promise<T> {
    const id = this.nextId++;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new AppError('UNAVAILABLE', `RPC ${this.url} unreachable: ${(error as Error).message}`);
    }
    if (!response.ok) throw new AppError('UNAVAILABLE', `RPC ${this.url} answered HTTP ${response.status}`);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new AppError('UNAVAILABLE', `RPC ${this.url} answered with something that is not JSON`);
    }
    const reply = rpcReply.safeParse(body);
    if (!reply.success || reply.data.id !== id) {
      throw new AppError('UNAVAILABLE', `RPC ${this.url} sent a malformed reply to ${method}`);
    }
    if ('error' in reply.data) {
      throw new AppError('UNAVAILABLE', `RPC ${method} failed: ${reply.data.error.message}`);
    }
    const result = schema.safeParse(reply.data.result);
    if (!result.success) throw new AppError('UNAVAILABLE', `RPC ${method} returned an unexpected result`);
    return result.data;
  }

  async chainId(): Promise<number> {
    return Number(await this.call('eth_chainId', [], quantity));
  }

  async blockNumber(): Promise<number> {
    return Number(await this.call('eth_blockNumber', [], quantity));
  }

  async block(number: number) {
    const block = await this.call('eth_getBlockByNumber', ['0x' + number.toString(16), false], blockSchema.nullable());
    if (!block) throw new AppError('NOT_FOUND', `Block ${number} does not exist yet`);
    return {
      number: Number(block.number),
      hash: block.hash,
      timestamp: Number(block.timestamp),
      transactionCount: block.transactions.length,
    };
  }
}
