import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../shared/gateway/client';
import { ChainUnavailableError } from './chain';
import { backoffMs, loadOrchestratorConfig, resolvePrivateKey } from './config';
import { JobFailure, isRetryable } from './runner';

const KEY = '5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

describe('orchestrator configuration', () => {
  it('reads the environment over the file, with defaults for the rest', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cos-orch-cfg-')), 'orchestrator.json');
    writeFileSync(file, JSON.stringify({ concurrency: 2, gatewayUrl: 'http://127.0.0.1:9000' }));
    const config = loadOrchestratorConfig(['--config', file], {
      COS_ORCHESTRATOR_CONCURRENCY: '3',
      COS_ORCHESTRATOR_POLL_INTERVAL_MS: '250',
    });
    expect(config).toMatchObject({
      concurrency: 3,
      pollIntervalMs: 250,
      gatewayUrl: 'http://127.0.0.1:9000',
      confirmations: 2,
      maxAttempts: 5,
    });
    expect(() => loadOrchestratorConfig([], { COS_ORCHESTRATOR_CONCURRENCY: '0' })).toThrow(/concurrency/);
    expect(() => loadOrchestratorConfig([], { COS_ORCHESTRATOR_GATEWAY_URL: 'not a url' })).toThrow(/gatewayUrl/);
  });

  it('takes the key from the environment or a file, and never echoes a bad one', () => {
    expect(resolvePrivateKey(loadOrchestratorConfig([], { COS_ORCHESTRATOR_PRIVATE_KEY: KEY }))).toBe(`0x${KEY}`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-orch-key-'));
    writeFileSync(path.join(dir, 'key'), `0x${KEY}\n`);
    const fromFile = loadOrchestratorConfig([], { COS_ORCHESTRATOR_PRIVATE_KEY_FILE: path.join(dir, 'key') });
    expect(resolvePrivateKey(fromFile)).toBe(`0x${KEY}`);
    writeFileSync(path.join(dir, 'bad'), 'secret-but-not-a-key\n');
    const bad = loadOrchestratorConfig([], { COS_ORCHESTRATOR_PRIVATE_KEY_FILE: path.join(dir, 'bad') });
    expect(() => resolvePrivateKey(bad)).toThrow(/does not hold a 32-byte hex key/);
    try {
      resolvePrivateKey(bad);
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-but-not-a-key');
    }
    let message = '';
    try {
      loadOrchestratorConfig([], { COS_ORCHESTRATOR_PRIVATE_KEY: 'zz' + KEY.slice(2) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/privateKey/);
    expect(message).not.toContain(KEY.slice(2));
  });

  it('backs off exponentially up to five minutes', () => {
    expect([1, 2, 3].map((attempt) => backoffMs({ retryBaseMs: 1_000 }, attempt))).toEqual([1_000, 2_000, 4_000]);
    expect(backoffMs({ retryBaseMs: 1_000 }, 30)).toBe(300_000);
  });
});

describe('failure classification', () => {
  it('retries unavailability and gives definite answers at once', () => {
    expect(isRetryable(new ChainUnavailableError('eth_call: ECONNREFUSED'))).toBe(true);
    expect(isRetryable(new GatewayError(0, 'INTERNAL', 'Gateway unreachable: ECONNREFUSED'))).toBe(true);
    expect(isRetryable(new GatewayError(503, 'CHAIN_UNAVAILABLE', 'chain down'))).toBe(true);
    expect(isRetryable(new GatewayError(429, 'RATE_LIMITED', 'slow down'))).toBe(true);
    expect(isRetryable(new GatewayError(404, 'NOT_FOUND', 'no such object'))).toBe(false);
    expect(isRetryable(new GatewayError(403, 'ACCESS_DENIED', 'permit has a result'))).toBe(false);
    expect(isRetryable(new GatewayError(0, 'DIGEST_MISMATCH', 'bytes do not hash'))).toBe(false);
    expect(isRetryable(new JobFailure('RESIDENCY', 'not in DE'))).toBe(false);
    expect(isRetryable(new Error('some bug'))).toBe(false);
  });
});
