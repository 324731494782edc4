import { inspect } from 'node:util';
import {
  AbstractSigner,
  computeAddress,
  copyRequest,
  getAddress,
  getBytes,
  hashMessage,
  resolveAddress,
  SigningKey,
  Transaction,
  TypedDataEncoder,
  type Provider,
  type Signature,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { VaultError } from './errors';

/** Signs 32-byte digests with a wallet key that only its closure can reach. Internal to the vault. */
export interface DigestSigner {
  readonly address: string;
  /** Compressed secp256k1 public key (33 bytes): public, used for the fingerprint. */
  readonly publicKey: Uint8Array;
  readonly destroyed: boolean;
  sign(digest: string): Signature;
  /** Drops the key; every later signature fails with PROFILE_LOCKED. */
  destroy(): void;
}

export function createDigestSigner(privateKey: Uint8Array): DigestSigner {
  // The key lives only in this closure: no property, getter, return value or log line ever holds it.
  let signingKey: SigningKey | null = new SigningKey(privateKey);
  const address = computeAddress(signingKey.publicKey);
  const publicKey = getBytes(signingKey.compressedPublicKey);
  return Object.freeze({
    address,
    get publicKey() {
      return publicKey.slice();
    },
    get destroyed() {
      return signingKey === null;
    },
    sign(digest: string): Signature {
      if (signingKey === null) throw new VaultError('PROFILE_LOCKED', 'The profile is locked: unlock it to sign');
      return signingKey.sign(digest);
    },
    destroy(): void {
      signingKey = null;
    },
  });
}

/**
 * An ethers v6 signer whose key stays inside the vault: callers get signatures and the address,
 * never the key. `connect` shares the same key holder, so locking the profile disables every copy.
 */
export class VaultSigner extends AbstractSigner {
  readonly address: string;
  readonly #digestSigner: DigestSigner;

  constructor(digestSigner: DigestSigner, provider: Provider | null = null) {
    super(provider);
    this.address = digestSigner.address;
    this.#digestSigner = digestSigner;
  }

  /** True once the profile that made this signer has been locked. */
  get locked(): boolean {
    return this.#digestSigner.destroyed;
  }

  async getAddress(): Promise<string> {
    return this.address;
  }

  connect(provider: Provider | null): VaultSigner {
    return new VaultSigner(this.#digestSigner, provider);
  }

  async signMessage(message: string | Uint8Array): Promise<string> {
    return this.#sign(hashMessage(message));
  }

  async signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    const resolved = await TypedDataEncoder.resolveNames(domain, types, value, async (name: string) => {
      const address = await this.resolveName(name);
      if (address === null) throw new VaultError('BAD_INPUT', `Cannot resolve the name "${name}"`);
      return address;
    });
    return this.#sign(TypedDataEncoder.hash(resolved.domain, types, resolved.value));
  }

  async signTransaction(request: TransactionRequest): Promise<string> {
    const prepared = copyRequest(request);
    const [to, from] = await Promise.all([
      prepared.to == null ? null : resolveAddress(prepared.to, this),
      prepared.from == null ? null : resolveAddress(prepared.from, this),
    ]);
    if (from !== null && getAddress(from) !== this.address) {
      throw new VaultError('BAD_INPUT', 'The transaction is from another account than this profile');
    }
    const fields: TransactionLike<string> = { ...prepared, to, from: undefined };
    const transaction = Transaction.from(fields);
    transaction.signature = this.#digestSigner.sign(transaction.unsignedHash);
    return transaction.serialized;
  }

  toJSON(): { type: 'VaultSigner'; address: string } {
    return { type: 'VaultSigner', address: this.address };
  }

  [inspect.custom](): string {
    return `VaultSigner { address: '${this.address}' }`;
  }

  #sign(digest: string): string {
    return this.#digestSigner.sign(digest).serialized;
  }
}
