import { z } from 'zod';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte hex address');

/** The file the devnet (or an operator, for a real network) writes and the app reads: where the contracts live. */
export const deploymentSchema = z.object({
  network: z.string().min(1),
  chainId: z.number().int().positive(),
  rpcUrl: z.string().url().optional(),
  deployedAtBlock: z.number().int().nonnegative(),
  deployer: address,
  contracts: z.record(z.string().min(1), address),
  createdAt: z.string(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export function parseDeployment(json: string, source: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source} is not a valid deployment file: ${detail}`);
  }
  return parsed.data;
}
