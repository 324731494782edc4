import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { Transaction, verifyMessage, verifyTypedData, Wallet, type TypedDataField } from 'ethers';
import { describe, expect, it } from 'vitest';
import { createDigestSigner, VaultSigner } from './signer';

// A throwaway key for these tests only, derived so that no key literal sits in the repository.
const testKey = createHash('sha256').update('cos-custodian signer unit test').digest();
const reference = new Wallet(`0x${testKey.toString('hex')}`);

const domain = { name: 'COS Access', version: '1', chainId: 31337, verifyingContract: `0x${'11'.repeat(20)}` };
const types: Record<string, TypedDataField[]> = {
  AccessTicket: [
    { name: 'grantId', type: 'uint256' },
    { name: 'holder', type: 'address' },
    { name: 'expiresAt', type: 'uint64' },
  ],
};
const ticket = { grantId: 7n, holder: `0x${'22'.repeat(20)}`, expiresAt: 1_900_000_000n };

function newSigner(): VaultSigner {
  return new VaultSigner(createDigestSigner(Uint8Array.from(testKey)));
}

describe('VaultSigner', () => {
  it('has the address of its key and signs exactly like an ethers Wallet', async () => {
    const signer = newSigner();
    expect(signer.address).toBe(reference.address);
    expect(await signer.getAddress()).toBe(reference.address);
    expect(await signer.signMessage('consent withdrawn')).toBe(await reference.signMessage('consent withdrawn'));
  });

  it('signs messages and EIP-712 typed data that verify against the address', async () => {
    const signer = newSigner();
    expect(verifyMessage('hello', await signer.signMessage('hello'))).toBe(signer.address);
    const bytes = Uint8Array.from([1, 2, 3]);
    expect(verifyMessage(bytes, await signer.signMessage(bytes))).toBe(signer.address);
    const signature = await signer.signTypedData(domain, types, ticket);
    expect(verifyTypedData(domain, types, ticket, signature)).toBe(signer.address);
  });

  it('signs transactions from its own account only', async () => {
    const signer = newSigner();
    const request = {
      type: 2,
      chainId: 31337n,
      nonce: 3,
      to: `0x${'33'.repeat(20)}`,
      value: 10n ** 15n,
      gasLimit: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    };
    const signed = Transaction.from(await signer.signTransaction(request));
    expect(signed.from).toBe(signer.address);
    expect(signed.chainId).toBe(31337n);
    expect(await signer.signTransaction({ ...request, from: signer.address })).toBe(
      await reference.signTransaction(request),
    );
    await expect(signer.signTransaction({ ...request, from: `0x${'44'.repeat(20)}` })).rejects.toMatchObject({
      vaultCode: 'BAD_INPUT',
    });
  });

  it('stops signing everywhere once the key holder is destroyed', async () => {
    const digestSigner = createDigestSigner(Uint8Array.from(testKey));
    const signer = new VaultSigner(digestSigner);
    const connected = signer.connect(null);
    digestSigner.destroy();
    expect(signer.locked).toBe(true);
    for (const attempt of [
      signer.signMessage('x'),
      connected.signMessage('x'),
      signer.signTypedData(domain, types, ticket),
      signer.signTransaction({ to: `0x${'33'.repeat(20)}`, chainId: 1n, nonce: 0, gasLimit: 21_000n, gasPrice: 1n }),
    ]) {
      await expect(attempt).rejects.toMatchObject({ vaultCode: 'PROFILE_LOCKED' });
    }
  });

  it('never shows its key through JSON, inspect or enumeration', () => {
    const digestSigner = createDigestSigner(Uint8Array.from(testKey));
    const signer = new VaultSigner(digestSigner);
    const needles = [testKey.toString('hex'), testKey.toString('base64')];
    const views = [
      JSON.stringify(signer),
      JSON.stringify(digestSigner),
      inspect(signer, { depth: Infinity, showHidden: true }),
      inspect(signer, { depth: Infinity, showHidden: true, customInspect: false, getters: true }),
      inspect(digestSigner, { depth: Infinity, showHidden: true, getters: true }),
      JSON.stringify(Object.getOwnPropertyNames(signer).map((name) => String((signer as never)[name]))),
      String(signer),
    ];
    for (const view of views) {
      for (const needle of needles) expect(view.toLowerCase()).not.toContain(needle.toLowerCase());
    }
    expect(JSON.parse(JSON.stringify(signer))).toEqual({ type: 'VaultSigner', address: reference.address });
  });
});
