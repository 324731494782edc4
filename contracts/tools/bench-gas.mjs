#!/usr/bin/env node
/**
 * npm run bench:gas — gas per contract operation, measured for real: a throwaway anvil, the contracts deployed by
 * contracts/script/deploy.ts, each operation sent as a transaction with ethers and its receipt's gasUsed read
 * (21,000 intrinsic gas and calldata included). The grant carries every clause (fee, rate limit, region), so the
 * checks measured are the full ones.
 *
 *   npm run bench:gas               print the table
 *   npm run bench:gas -- --write    also replace the "## Gas (npm run bench:gas)" section of docs/BENCHMARKS.md
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { JsonRpcProvider, id, parseUnits } from 'ethers';
import { tsImport } from 'tsx/esm/api';
import { startAnvil } from '../../services/devnet/anvil.ts';
import { repoRoot } from './forge.mjs';

const TARGETS = {
  'SBT mint': 80_000,
  grant: 120_000,
  recordUse: 50_000,
  issueJobPermit: 100_000,
  postJobResult: 80_000,
};
const SECTION = '## Gas (npm run bench:gas)';

const { deployContracts } = await tsImport('../script/deploy.ts', import.meta.url);
const bindings = await tsImport('../../shared/contracts/index.ts', import.meta.url);
const { ALGORITHMS, BurnAuth, OP, ROLE, buildConsentTree, connectCosContracts } = bindings;

const anvil = await startAnvil();
const provider = new JsonRpcProvider(anvil.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 50 });
const rows = [];
try {
  const [deployer, gateway, orchestrator, steward, lab, donor, treasury] = await Promise.all(
    [0, 1, 2, 3, 4, 5, 6].map((i) => provider.getSigner(i)),
  );
  const addresses = await deployContracts(deployer, {
    platformTreasury: await treasury.getAddress(),
    devRoles: {
      gateway: await gateway.getAddress(),
      orchestrator: await orchestrator.getAddress(),
      regionOracle: await orchestrator.getAddress(),
    },
  });
  const as = (signer) => connectCosContracts(addresses, signer);
  const measure = async (operation, tx, note = '') => {
    const receipt = await (await tx).wait();
    if (receipt.status !== 1) throw new Error(`${operation} reverted`);
    rows.push({ operation, gas: receipt.gasUsed, note });
    return receipt;
  };
  const send = async (tx) => (await tx).wait();

  // Identities: the measured mint is the issuer's, with a role attestation, to a fresh account.
  await measure(
    'SBT mint',
    as(deployer).IdentitySBT.issue(await steward.getAddress(), ROLE.STEWARD, BurnAuth.Both),
    'IdentitySBT.issue with one role attestation',
  );
  await send(as(deployer).IdentitySBT.issue(await lab.getAddress(), ROLE.LAB, BurnAuth.Both));
  await send(as(deployer).IdentitySBT.issue(await donor.getAddress(), ROLE.DONOR, BurnAuth.OwnerOnly));
  const labSbt = await as(lab).IdentitySBT.sbtOf(await lab.getAddress());
  const donorSbt = await as(donor).IdentitySBT.sbtOf(await donor.getAddress());
  const orchestratorSbt = await as(lab).IdentitySBT.sbtOf(await orchestrator.getAddress());

  const tree = buildConsentTree([
    { donorSbtId: donorSbt, consentCommitment: id('donor consent') },
    { donorSbtId: donorSbt + 100n, consentCommitment: id('another donor') },
  ]);
  await measure(
    'dataset register',
    as(steward).DatasetRegistry.registerDataset({
      manifestCommitment: id('manifest'),
      resourceURI: 'cos://gateway/datasets/cohort-1/manifest.json',
      fheParamsHash: id('BFV N=8192'),
      fheKeyFingerprint: id('steward public key'),
      consentCodes: 6,
      consentRoot: tree.root,
      donorCount: 2,
      royaltyReceiver: '0x0000000000000000000000000000000000000000',
      royaltyBps: 6000,
    }),
    'ERC-721 mint, commitments, resource URI, ERC-2981 royalty',
  );
  const purpose = id('cos.purpose:HMB GWAS');
  await measure('request', as(lab).DataAccess.request(1, OP.READ | OP.COMPUTE, purpose, 6), 'opens grant 1');

  const now = BigInt((await provider.getBlock('latest')).timestamp);
  const fee = parseUnits('2', 18);
  await measure(
    'grant',
    as(steward).DataAccess.grant(1, {
      opMask: OP.READ | OP.COMPUTE,
      notBefore: now,
      expiry: now + 30n * 86_400n,
      maxRuns: 100,
      rateWindow: 3_600,
      rateMaxRuns: 50,
      regionCode: '0x4348',
      epsilonCap: 10_000_000,
      deltaCap: 10n ** 12n,
      termsHash: id('terms v1'),
      keySwitchAllowed: true,
      feePerUse: fee,
      ownerBps: 6_000,
      donorsBps: 3_000,
      platformBps: 1_000,
    }),
    'all ten clauses: fee, rate limit, region, budget, terms',
  );

  // Region attestations (EIP-712, oracle = orchestrator account on this devnet) for the lab and the orchestrator.
  const domain = { name: 'COS Identity', version: '1', chainId: 31337, verifyingContract: addresses.IdentitySBT };
  const types = {
    RegionAttestation: [
      { name: 'sbtId', type: 'uint256' },
      { name: 'regionCode', type: 'bytes2' },
      { name: 'validUntil', type: 'uint40' },
      { name: 'attestedAt', type: 'uint40' },
    ],
  };
  for (const sbtId of [labSbt, orchestratorSbt]) {
    const attestation = { sbtId, regionCode: '0x4348', validUntil: now + 365n * 86_400n, attestedAt: now };
    const signature = await orchestrator.signTypedData(domain, types, attestation);
    const receipt = await send(as(lab).IdentitySBT.attestRegion(attestation, signature));
    if (sbtId === labSbt)
      rows.push({ operation: 'attestRegion', gas: receipt.gasUsed, note: 'EIP-712 oracle signature' });
  }

  await send(as(lab).CosToken.drip());
  await send(as(lab).CosToken.approve(addresses.Settlement, 20n * fee));
  await measure('fundGrant', as(lab).Settlement.fundGrant(1, 20), '20 runs prepaid into escrow');
  await measure(
    'recordUse',
    as(gateway).DataAccess.recordUse(1, OP.READ, id('ticket 1'), id('object 1')),
    'gateway; full canAccess checks; charges a run',
  );
  const batch = Array.from({ length: 10 }, (_, i) => ({
    grantId: 1,
    op: OP.READ,
    ticketCommitment: id(`ticket batch ${i}`),
    objectDigest: id(`object batch ${i}`),
  }));
  const batchReceipt = await send(as(gateway).DataAccess.recordUses(batch));
  rows.push({
    operation: 'recordUses (batch of 10), per use',
    gas: batchReceipt.gasUsed / 10n,
    note: `${Number(batchReceipt.gasUsed).toLocaleString('en-US')} for the batch`,
  });
  await measure(
    'issueJobPermit',
    as(lab).DataAccess.issueJobPermit(1, ALGORITHMS.GWAS_ALLELIC_CHISQ.id, purpose, 1_000_000, 10n ** 9n, id('params')),
    'charges a run and epsilon/delta atomically',
  );
  await measure(
    'postJobResult',
    as(orchestrator).DataAccess.postJobResult(1, id('encrypted result'), 'cos://gateway/results/1'),
    'orchestrator in the grant region; once per permit',
  );
  await measure('settle', as(deployer).Settlement.settle(1), 'splits 12 charged runs: owner, donors, platform');
  await measure('revoke', as(steward).DataAccess.revoke(1), 'dataset owner');
  await measure('refund', as(lab).Settlement.refund(1), 'unused prepaid runs back to the payer');
  await measure('claim', as(steward).Settlement.claim(), "owner's royalties, paid by pull");
  await measure(
    'claimDonorRoyalty',
    as(donor).Settlement.claimDonorRoyalty(1, donorSbt, id('donor consent'), tree.proofs[0]),
    'with a Merkle proof of membership',
  );
} finally {
  provider.destroy();
  await anvil.stop();
}

const order = [
  'SBT mint',
  'dataset register',
  'request',
  'grant',
  'recordUse',
  'issueJobPermit',
  'postJobResult',
  'revoke',
  'claim',
];
const sorted = [
  ...order.map((name) => rows.find((row) => row.operation === name)),
  ...rows.filter((row) => !order.includes(row.operation)),
];
const format = (n) => Number(n).toLocaleString('en-US');
const lines = ['| operation | gas used | target | notes |', '| --- | ---: | ---: | --- |'];
let missed = 0;
for (const row of sorted) {
  const target = TARGETS[row.operation];
  const verdict =
    target === undefined ? '' : row.gas <= BigInt(target) ? `≤ ${format(target)} ✓` : `≤ ${format(target)} ✗`;
  if (target !== undefined && row.gas > BigInt(target)) missed += 1;
  lines.push(`| ${row.operation} | ${format(row.gas)} | ${verdict} | ${row.note} |`);
}
const table = lines.join('\n');
console.log(table);
console.log(missed === 0 ? '\nall gas targets met' : `\n${missed} gas target(s) missed`);

if (process.argv.includes('--write')) {
  const file = path.join(repoRoot, 'docs', 'BENCHMARKS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const body = [
    SECTION,
    '',
    'Reproduce with `npm run bench:gas` (add `-- --write` to refresh this section). Each figure is the `gasUsed` of a',
    'real transaction receipt on a throwaway anvil (21,000 intrinsic gas and calldata included), contracts deployed',
    'by `contracts/script/deploy.ts`, compiled with solc 0.8.37 (solc-js), optimizer 1,000 runs, EVM cancun.',
    '',
    table,
    '',
  ].join('\n');
  const start = text.indexOf(SECTION);
  let next;
  if (start === -1) next = `${text.trimEnd()}\n\n${body}`;
  else {
    const rest = text.slice(start + SECTION.length);
    const end = rest.search(/\n## /);
    next = text.slice(0, start) + body + (end === -1 ? '' : rest.slice(end + 1));
  }
  // The repository's prettier settings (npm run lint checks docs too); other sections are already formatted.
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(next, { ...config, filepath: file }));
  console.log(`wrote ${path.relative(repoRoot, file)}`);
}
process.exitCode = missed === 0 ? 0 : 1;
