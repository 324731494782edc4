import { describe, expect, it } from 'vitest';
import { draftOf, settingsFromDraft } from './draft';

const devnet = {
  network: 'devnet' as const,
  rpcUrl: null,
  deploymentFile: null,
  gatewayUrl: null,
  orchestratorUrl: null,
  confirmations: 1,
};

describe('settings form', () => {
  it('round-trips saved settings', () => {
    expect(settingsFromDraft(draftOf(devnet))).toEqual({ ok: true, settings: devnet });
  });
  it('needs an RPC URL and a deployment file for a custom network', () => {
    const result = settingsFromDraft({ ...draftOf(devnet), network: 'custom' });
    expect(result).toEqual({
      ok: false,
      errors: {
        rpcUrl: 'A custom network needs its RPC URL',
        deploymentFile: 'A custom network needs its deployment file',
      },
    });
  });
  it('refuses malformed URLs and confirmations', () => {
    const result = settingsFromDraft({ ...draftOf(devnet), gatewayUrl: 'gateway', confirmations: 1001 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.gatewayUrl).toBe('Enter a full URL, e.g. http://127.0.0.1:8545');
      expect(result.errors.confirmations).toBe('A whole number from 0 to 1000');
    }
    expect(settingsFromDraft({ ...draftOf(devnet), confirmations: '' }).ok).toBe(false);
  });
  it('accepts a complete custom network', () => {
    const result = settingsFromDraft({
      ...draftOf(devnet),
      network: 'custom',
      rpcUrl: 'https://rpc.example.org',
      deploymentFile: '/srv/deployment.json',
      confirmations: 12,
    });
    expect(result).toEqual({
      ok: true,
      settings: {
        ...devnet,
        network: 'custom',
        rpcUrl: 'https://rpc.example.org',
        deploymentFile: '/srv/deployment.json',
        confirmations: 12,
      },
    });
  });
});
