/**
 * A separate process for the key-switching integration test: `owner <dir>` makes a result bundle from
 * files (the owner's machine), `lab <dir> <rpcUrl>` decrypts it (the lab's machine, run with its network
 * cut). Prints one JSON line; errors print `{ error: code }` and exit 3. Test support only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSeal } from '../seal';
import { parseOutputTerms } from '../../terms/terms';
import { createResultBundle, decryptBundle } from './bundle';
import { isKeySwitchError } from './errors';

async function owner(dir: string): Promise<unknown> {
  const request = JSON.parse(await readFile(path.join(dir, 'request.json'), 'utf8')) as {
    permitId: string;
    terms: unknown;
    chain: {
      termsHash: string;
      keySwitchAllowed: boolean;
      granted: boolean;
      algorithmId: string;
      epsilon: string;
      delta: string;
    };
    resultCommitment: string;
    layout: never;
  };
  const seal = await loadSeal();
  const { bundle, shareCommitment, reports } = createResultBundle(seal, {
    permitId: BigInt(request.permitId),
    terms: parseOutputTerms(request.terms),
    chain: { ...request.chain, epsilon: BigInt(request.chain.epsilon), delta: BigInt(request.chain.delta) },
    resultCommitment: request.resultCommitment,
    result: { kind: 'genotype-counts', layout: request.layout, bytes: await readFile(path.join(dir, 'result.bin')) },
    ownerSecretKeys: await readFile(path.join(dir, 'owner-secret.bin')),
    labPublicKeys: await readFile(path.join(dir, 'lab-public.bin')),
  });
  await writeFile(path.join(dir, 'bundle.bin'), bundle);
  return { shareCommitment, reports };
}

async function lab(dir: string, rpcUrl: string): Promise<unknown> {
  let network: string;
  try {
    await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
      signal: AbortSignal.timeout(3000),
    });
    network = 'reachable';
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    network = cause?.code ?? (error as Error).name;
  }
  const seal = await loadSeal();
  const decrypted = decryptBundle(
    seal,
    await readFile(path.join(dir, 'bundle.bin')),
    await readFile(path.join(dir, 'lab-secret.bin')),
  );
  if (decrypted.kind !== 'genotype-counts') throw new Error('expected genotype counts');
  const counts = Object.fromEntries(
    (['case', 'control'] as const).map((group) => [group, decrypted.counts[group].map((row) => Array.from(row))]),
  );
  return {
    network,
    counts,
    permitId: decrypted.permitId.toString(),
    resultCommitment: decrypted.resultCommitment,
    shareCommitment: decrypted.shareCommitment,
    termsHash: decrypted.termsHash,
    algorithmId: decrypted.algorithmId,
  };
}

const [command, dir, rpcUrl] = process.argv.slice(2);
try {
  const output = command === 'owner' ? await owner(dir!) : await lab(dir!, rpcUrl!);
  process.stdout.write(`${JSON.stringify(output)}\n`);
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ error: isKeySwitchError(error) ? error.keySwitchCode : 'OTHER', message: (error as Error).message })}\n`,
  );
  process.exitCode = 3;
}
