import { z } from 'zod';
import type { ServiceHealth, ServiceName } from '../../../shared/ipc/contract';

const healthReply = z.object({ status: z.literal('ok'), service: z.string(), version: z.string() });

export interface ServiceEndpoint {
  name: ServiceName;
  url: string;
}

/** Asks each companion service's /health; an unreachable or malformed answer is reported, not thrown. */
export async function checkServices(
  endpoints: readonly ServiceEndpoint[],
  timeoutMs = 2_000,
): Promise<ServiceHealth[]> {
  return Promise.all(
    endpoints.map(async ({ name, url }): Promise<ServiceHealth> => {
      try {
        const response = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) return { name, url, healthy: false, version: null, detail: `HTTP ${response.status}` };
        const parsed = healthReply.safeParse(await response.json());
        if (!parsed.success || parsed.data.service !== name) {
          return { name, url, healthy: false, version: null, detail: 'unexpected health reply' };
        }
        return { name, url, healthy: true, version: parsed.data.version, detail: null };
      } catch (error) {
        return { name, url, healthy: false, version: null, detail: (error as Error).message };
      }
    }),
  );
}
