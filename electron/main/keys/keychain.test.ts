import { describe, expect, it } from 'vitest';
import { KeytarKeychain } from './keychain';

// The real keychain is tested in keychain.integration.test.ts; this covers a module that cannot load.
describe('KeytarKeychain without its native module', () => {
  it('reports KEYCHAIN_UNAVAILABLE and tries the module again on the next call', async () => {
    let attempts = 0;
    const keychain = new KeytarKeychain({
      loadModule: async () => {
        attempts += 1;
        throw new Error('Cannot find module keytar.node');
      },
    });
    await expect(keychain.getSecret('cos-custodian', 'profile:x')).rejects.toMatchObject({
      vaultCode: 'KEYCHAIN_UNAVAILABLE',
      code: 'UNAVAILABLE',
    });
    await expect(keychain.setSecret('cos-custodian', 'profile:x', 'v')).rejects.toMatchObject({
      vaultCode: 'KEYCHAIN_UNAVAILABLE',
    });
    expect(attempts).toBe(2);
  });

  it('refuses empty service or account names before touching the keychain', async () => {
    const keychain = new KeytarKeychain({ loadModule: () => Promise.reject(new Error('not reached')) });
    await expect(keychain.getSecret('', 'a')).rejects.toMatchObject({ vaultCode: 'BAD_INPUT' });
    await expect(keychain.deleteSecret('s', '')).rejects.toMatchObject({ vaultCode: 'BAD_INPUT' });
  });
});
