import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCoreConfig } from './core-config';
import { defaultDataDir } from './paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cos-config-'));
const deployment = {
  network: 'devnet',
  chainId: 31337,
  rpcUrl: 'http://127.0.0.1:9999',
  deployedAtBlock: 3,
  deployer: '0x' + '11'.repeat(20),
  contracts: { DatasetRegistry: '0x' + '22'.repeat(20) },
  createdAt: '2026-11-21T00:00:00.000Z',
};

describe('core configuration', () => {
  it('takes the RPC and contracts from the deployment file unless COS_RPC_URL overrides it', () => {
    const file = path.join(dir, 'deployment.json');
    writeFileSync(file, JSON.stringify(deployment));
    const config = loadCoreConfig('browser-host', '1.0.0', { COS_DEPLOYMENT_FILE: file, COS_DATA_DIR: dir });
    expect(config).toMatchObject({ rpcUrl: 'http://127.0.0.1:9999', networkName: 'devnet', dataDir: dir });
    expect(config.deployment?.contracts.DatasetRegistry).toBe(deployment.contracts.DatasetRegistry);
    const overridden = loadCoreConfig('electron', '1.0.0', {
      COS_DEPLOYMENT_FILE: file,
      COS_RPC_URL: 'http://10.0.0.1:8545',
    });
    expect(overridden.rpcUrl).toBe('http://10.0.0.1:8545');
  });

  it('refuses a malformed deployment file with a message naming the field', () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...deployment, contracts: { DatasetRegistry: '0x1234' } }));
    expect(() => loadCoreConfig('electron', '1', { COS_DEPLOYMENT_FILE: file })).toThrow(/contracts\.DatasetRegistry/);
    writeFileSync(file, '{oops');
    expect(() => loadCoreConfig('electron', '1', { COS_DEPLOYMENT_FILE: file })).toThrow(/not valid JSON/);
  });

  it('refuses malformed environment values', () => {
    expect(() => loadCoreConfig('electron', '1', { COS_RPC_URL: 'not a url' })).toThrow(/COS_RPC_URL/);
    expect(() => loadCoreConfig('electron', '1', { COS_POLL_INTERVAL_MS: '5' })).toThrow(/COS_POLL_INTERVAL_MS/);
  });

  it('keeps data where Electron keeps userData on each platform', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/COS Custodian');
    expect(defaultDataDir({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32')).toBe(
      path.join('C:/Users/a/AppData/Roaming', 'COS Custodian'),
    );
    expect(defaultDataDir({ COS_DATA_DIR: '/tmp/cos' }, 'linux')).toBe('/tmp/cos');
  });

  it('uses a saved custom network over the launcher environment, and the devnet otherwise', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cos-settings-'));
    const devnetFile = path.join(dataDir, 'devnet.json');
    writeFileSync(devnetFile, JSON.stringify(deployment));
    const customFile = path.join(dataDir, 'custom.json');
    writeFileSync(customFile, JSON.stringify({ ...deployment, network: 'consortium', chainId: 777 }));
    const env = { COS_DATA_DIR: dataDir, COS_DEPLOYMENT_FILE: devnetFile, COS_GATEWAY_URL: 'http://127.0.0.1:1' };
    expect(loadCoreConfig('browser-host', '1', env)).toMatchObject({ networkName: 'devnet', confirmations: 0 });
    const settings = {
      network: 'custom',
      rpcUrl: 'https://rpc.example',
      deploymentFile: customFile,
      gatewayUrl: 'https://gateway.example',
      orchestratorUrl: null,
      confirmations: 12,
    };
    writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify(settings));
    expect(loadCoreConfig('browser-host', '1', env)).toMatchObject({
      networkName: 'consortium',
      rpcUrl: 'https://rpc.example',
      gatewayUrl: 'https://gateway.example',
      orchestratorUrl: null,
      confirmations: 12,
      deploymentFile: customFile,
    });
    // A damaged settings file is ignored, never half-applied.
    writeFileSync(path.join(dataDir, 'settings.json'), '{"network":"custom"');
    expect(loadCoreConfig('browser-host', '1', env)).toMatchObject({ networkName: 'devnet', confirmations: 0 });
  });
});
