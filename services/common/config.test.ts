import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadServiceConfig } from './config';

const schema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  maxObjectBytes: z.coerce.number().int().positive().default(1024),
});

describe('service configuration', () => {
  it('layers defaults, then the file, then the environment', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cos-svc-')), 'gateway.json');
    writeFileSync(file, JSON.stringify({ port: 7000, maxObjectBytes: 10 }));
    const config = loadServiceConfig('gateway', schema, ['--config', file], { COS_GATEWAY_MAX_OBJECT_BYTES: '20' });
    expect(config).toEqual({ host: '127.0.0.1', port: 7000, maxObjectBytes: 20 });
  });

  it('names the bad key and refuses to start', () => {
    expect(() => loadServiceConfig('gateway', schema, [], { COS_GATEWAY_PORT: '70000' })).toThrow(
      /gateway: invalid configuration: port/,
    );
    expect(() => loadServiceConfig('gateway', schema, ['--config', '/nonexistent.json'], {})).toThrow(
      /cannot read config file/,
    );
  });
});
