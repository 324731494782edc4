import { readFileSync } from 'node:fs';
import { type z } from 'zod';

/**
 * Service configuration: defaults < JSON file (`--config FILE` or COS_<SERVICE>_CONFIG) < environment
 * (COS_<SERVICE>_<KEY> in upper snake case). Validated as a whole; a bad value stops the service with
 * a message naming the key.
 */
export function loadServiceConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const prefix = `COS_${service.toUpperCase()}_`;
  const flag = argv.indexOf('--config');
  const file = flag >= 0 ? argv[flag + 1] : env[`${prefix}CONFIG`];
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${service}: cannot read config file ${file}: ${(error as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const envKey = prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
    const value = env[envKey];
    if (value !== undefined) fromEnv[key] = value;
  }
  const parsed = schema.safeParse({ ...fromFile, ...fromEnv });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${service}: invalid configuration: ${detail}`);
  }
  return parsed.data;
}
