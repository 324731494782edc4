/**
 * A real compute setup for the orchestrator's integration test and benchmark: anvil with the contracts,
 * the gateway and orchestrator as child processes, a steward whose cohort is encrypted with the FHE
 * engine, uploaded to the gateway and registered on chain, labs with COMPUTE grants. Nothing is mocked.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, type JsonRpcSigner, id, toBeHex, zeroPadValue } from 'ethers';
import { deployContracts } from '../../../contracts/script/deploy';
import { OBJECTS_DIR } from '../../../electron/main/fhe/dataset';
import { FheEngine, type FheKeyMaterial } from '../../../electron/main/fhe/engine';
import { readPlainCohort, type PlainCohort } from '../../../electron/main/fhe/testing/cohort';
import {
  ALGORITHMS,
  BurnAuth,
  type CosContractAddresses,
  type CosContracts,
  OP,
  ROLE,
  buildConsentTree,
  connectCosContracts,
  dataAccessInterface,
} from '../../../shared/contracts';
import { publicKeysDigest } from '../../../shared/fhe/key-bundles';
import { type FheManifest, manifestDigest } from '../../../shared/fhe/manifest';
import { GatewayClient } from '../../../shared/gateway/client';
import { startAnvil, type Anvil } from '../../devnet/anvil';
import { startServiceChild, type ServiceChild } from '../../devnet/children';
import { DEVNET_OPERATOR_KEYS, DEVNET_OPERATORS, ensureRegionAttestation } from '../../devnet/operators';
import { jobParamsHash } from '../algorithms';

export const PURPOSE = id('cos.purpose:DUO:0000006 HMB; orchestrator test');
export const ZERO32 = '0x' + '0'.repeat(64);
export type AccountName = 'deployer' | 'steward' | 'lab' | 'donorA' | 'donorB' | 'lab2';
export type Identity = Exclude<AccountName, 'deployer'>;

export interface JobStatusBody {
  permitId: string;
  state: string;
  attempts: number;
  error: string | null;
  resultCommitment: string | null;
  resultURI: string | null;
  txHash: string | null;
}

export interface FixtureOptions {
  vcfPath: string;
  csvPath: string;
  /** Samples whose consent ids become the tokens of donorA and donorB (real accounts that can withdraw). */
  donorSamples: readonly [number, number];
  /** Extra COS_ORCHESTRATOR_* settings. */
  orchestratorEnv?: Record<string, string>;
}

async function mined(tx: Promise<{ wait(): Promise<{ status: number | null } | null> }>): Promise<void> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error('transaction failed');
}

export class ComputeFixture {
  anvil!: Anvil;
  provider!: JsonRpcProvider;
  addresses!: CosContractAddresses;
  dir!: string;
  deploymentFile!: string;
  readonly signers = {} as Record<AccountName, JsonRpcSigner>;
  readonly sbt = {} as Record<Identity, bigint>;
  gateway!: ServiceChild;
  gatewayPort = 0;
  orchestrator: ServiceChild | null = null;
  readonly orchestratorLog: string[] = [];
  client!: GatewayClient;
  readonly engine = new FheEngine();
  keys!: FheKeyMaterial;
  manifest!: FheManifest;
  plain!: PlainCohort;
  consentIds!: string[];
  tree!: ReturnType<typeof buildConsentTree>;
  datasetId!: bigint;
  /** Seconds spent encrypting and uploading the cohort (for the benchmark). */
  setupSeconds = { encrypt: 0, upload: 0 };

  private constructor(readonly options: FixtureOptions) {}

  as(name: AccountName): CosContracts {
    return connectCosContracts(this.addresses, this.signers[name]);
  }

  static async start(options: FixtureOptions): Promise<ComputeFixture> {
    const fixture = new ComputeFixture(options);
    try {
      await fixture.#setup();
    } catch (error) {
      await fixture.stop();
      throw error;
    }
    return fixture;
  }

  async #setup(): Promise<void> {
    const { options } = this;
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'cos-orch-it-'));
    this.anvil = await startAnvil({ chainId: 31337 });
    this.provider = new JsonRpcProvider(this.anvil.rpcUrl, 31337, {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
    });
    const names = ['deployer', null, null, 'steward', 'lab', 'donorA', 'donorB', 'lab2'] as const;
    for (const [index, name] of names.entries()) if (name) this.signers[name] = await this.provider.getSigner(index);
    const deployer = await this.signers.deployer.getAddress();
    this.addresses = await deployContracts(this.signers.deployer, {
      devRoles: {
        gateway: DEVNET_OPERATORS.gateway,
        orchestrator: DEVNET_OPERATORS.orchestrator,
        regionOracle: deployer,
      },
    });
    this.deploymentFile = path.join(this.dir, 'deployment.json');
    await writeFile(
      this.deploymentFile,
      JSON.stringify({
        network: 'test',
        chainId: 31337,
        rpcUrl: this.anvil.rpcUrl,
        deployedAtBlock: await this.provider.getBlockNumber(),
        deployer,
        contracts: this.addresses,
        createdAt: new Date().toISOString(),
      }),
    );
    await this.attest(DEVNET_OPERATORS.orchestrator, 'CH');

    // Identities: the steward is issued, labs and donors register themselves.
    await mined(
      this.as('deployer').IdentitySBT.issue(await this.signers.steward.getAddress(), ROLE.STEWARD, BurnAuth.Both),
    );
    await mined(this.as('lab').IdentitySBT.register(ROLE.LAB));
    await mined(this.as('lab2').IdentitySBT.register(ROLE.LAB));
    await mined(this.as('donorA').IdentitySBT.register(ROLE.DONOR));
    await mined(this.as('donorB').IdentitySBT.register(ROLE.DONOR));
    for (const name of ['steward', 'lab', 'donorA', 'donorB', 'lab2'] as const) {
      this.sbt[name] = await this.as(name).IdentitySBT.sbtOf(await this.signers[name].getAddress());
    }
    await this.attest(await this.signers.lab.getAddress(), 'CH');
    await this.attest(await this.signers.lab2.getAddress(), 'DE');

    // The cohort, with two samples' consent ids set to the real donors' tokens.
    this.plain = await readPlainCohort(options.vcfPath, options.csvPath);
    const [sampleA, sampleB] = options.donorSamples;
    this.consentIds = this.plain.consentIds.map((consentId, sample) =>
      sample === sampleA ? String(this.sbt.donorA) : sample === sampleB ? String(this.sbt.donorB) : consentId,
    );
    const csvLines = (await readFile(options.csvPath, 'utf8')).trimEnd().split('\n');
    const header = csvLines[0]!.split(',');
    const sampleColumn = header.indexOf('sample_id');
    const consentColumn = header.indexOf('consent_id');
    const csvPath = path.join(this.dir, 'phenotypes.csv');
    await writeFile(
      csvPath,
      [
        csvLines[0],
        ...csvLines.slice(1).map((line) => {
          const fields = line.split(',');
          fields[consentColumn] = this.consentIds[this.plain.samples.indexOf(fields[sampleColumn]!)]!;
          return fields.join(',');
        }),
      ].join('\n') + '\n',
    );
    this.keys = await this.engine.generateKeys();
    const datasetDir = path.join(this.dir, 'dataset');
    let started = performance.now();
    ({ manifest: this.manifest } = await this.engine.encryptDataset(
      {
        vcfPath: options.vcfPath,
        phenotypeCsvPath: csvPath,
        phenotypeColumn: 'case',
        covariateColumns: [],
        outputDir: datasetDir,
      },
      this.keys.secretKeys,
    ));
    this.setupSeconds.encrypt = (performance.now() - started) / 1000;

    this.gateway = await this.startGateway();
    this.gatewayPort = Number(new URL(this.gateway.url).port);
    this.client = new GatewayClient({
      baseUrl: this.gateway.url,
      chainId: 31337,
      dataAccess: this.addresses.DataAccess,
    });
    started = performance.now();
    for (const name of await readdir(path.join(datasetDir, OBJECTS_DIR))) {
      await this.client.upload(this.signers.steward, path.join(datasetDir, OBJECTS_DIR, name));
    }
    await this.client.upload(this.signers.steward, path.join(datasetDir, 'manifest.json'));
    await this.client.upload(this.signers.steward, this.keys.publicKeys);
    this.setupSeconds.upload = (performance.now() - started) / 1000;

    this.tree = buildConsentTree(
      this.consentIds.map((c) => ({ donorSbtId: BigInt(c), consentCommitment: id(`consent ${c}`) })),
    );
    await mined(
      this.as('steward').DatasetRegistry.registerDataset({
        manifestCommitment: manifestDigest(this.manifest),
        resourceURI: `${this.gateway.url}/v1/datasets/1/manifest`,
        fheParamsHash: this.manifest.fheParamsHash,
        fheKeyFingerprint: publicKeysDigest(this.keys.publicKeys),
        consentCodes: 2,
        consentRoot: this.tree.root,
        donorCount: this.consentIds.length,
        royaltyReceiver: '0x0000000000000000000000000000000000000000',
        royaltyBps: 0,
      }),
    );
    this.datasetId = await this.as('steward').DatasetRegistry.datasetCount();
  }

  attest(account: string, alpha2: string): Promise<boolean> {
    return ensureRegionAttestation({
      provider: this.provider,
      contracts: this.addresses,
      chainId: 31337,
      oracle: this.signers.deployer,
      account,
      alpha2,
    });
  }

  startGateway(port = 0): Promise<ServiceChild> {
    return startServiceChild(
      'gateway',
      {
        COS_GATEWAY_PORT: String(port),
        COS_GATEWAY_RPC_URL: this.anvil.rpcUrl,
        COS_GATEWAY_DEPLOYMENT_FILE: this.deploymentFile,
        COS_GATEWAY_DATA_DIR: path.join(this.dir, 'gateway'),
        COS_GATEWAY_PRIVATE_KEY: DEVNET_OPERATOR_KEYS.gateway,
        COS_GATEWAY_FLUSH_INTERVAL_MS: '100',
      },
      () => undefined,
    );
  }

  async startOrchestrator(): Promise<ServiceChild> {
    this.orchestrator = await startServiceChild(
      'orchestrator',
      {
        COS_ORCHESTRATOR_RPC_URL: this.anvil.rpcUrl,
        COS_ORCHESTRATOR_DEPLOYMENT_FILE: this.deploymentFile,
        COS_ORCHESTRATOR_DATA_DIR: path.join(this.dir, 'orchestrator'),
        COS_ORCHESTRATOR_PRIVATE_KEY: DEVNET_OPERATOR_KEYS.orchestrator,
        COS_ORCHESTRATOR_GATEWAY_URL: this.gateway.url,
        COS_ORCHESTRATOR_CONFIRMATIONS: '0',
        COS_ORCHESTRATOR_POLL_INTERVAL_MS: '200',
        COS_ORCHESTRATOR_RETRY_BASE_MS: '300',
        COS_ORCHESTRATOR_MAX_ATTEMPTS: '30',
        ...this.options.orchestratorEnv,
      },
      (line) => this.orchestratorLog.push(line),
    );
    return this.orchestrator;
  }

  /** A COMPUTE grant of the steward's dataset to `lab`, in `region` (bytes2; 0x0000 = anywhere). */
  async grantCompute(lab: 'lab' | 'lab2', region: string): Promise<bigint> {
    await mined(this.as(lab).DataAccess.request(this.datasetId, OP.COMPUTE, PURPOSE, 2));
    const grant = await this.as(lab).DataAccess.grantCount();
    const now = BigInt((await this.provider.getBlock('latest'))!.timestamp);
    await mined(
      this.as('steward').DataAccess.grant(grant, {
        opMask: OP.COMPUTE,
        notBefore: now,
        expiry: now + 30n * 86_400n,
        maxRuns: 50,
        rateWindow: 0,
        rateMaxRuns: 0,
        regionCode: region,
        epsilonCap: 50_000_000,
        deltaCap: 0,
        termsHash: id('cos.terms:v1 aggregate counts only'),
        keySwitchAllowed: false,
        feePerUse: 0,
        ownerBps: 10_000,
        donorsBps: 0,
        platformBps: 0,
      }),
    );
    return grant;
  }

  async issuePermit(
    grant: bigint,
    lab: 'lab' | 'lab2' = 'lab',
    params: unknown = {},
    algorithmId: string = ALGORITHMS.ALLELE_COUNTS.id,
  ): Promise<bigint> {
    const access = this.as(lab).DataAccess;
    await mined(access.issueJobPermit(grant, algorithmId, PURPOSE, 100_000, 0, jobParamsHash(params)));
    return access.permitCount();
  }

  /** JobResultPosted events for a permit, straight from the chain's logs. */
  async resultPostings(permitId: bigint): Promise<number> {
    const logs = await this.provider.getLogs({
      address: this.addresses.DataAccess,
      topics: [dataAccessInterface.getEvent('JobResultPosted')!.topicHash, zeroPadValue(toBeHex(permitId), 32)],
      fromBlock: 0,
      toBlock: 'latest',
    });
    return logs.length;
  }

  async jobStatus(permitId: bigint): Promise<JobStatusBody | null> {
    const res = await fetch(`${this.orchestrator!.url}/v1/jobs/${permitId}`);
    if (res.status === 404) return null;
    return (await res.json()) as JobStatusBody;
  }

  async waitForState(permitId: bigint, states: readonly string[], timeoutMs = 40_000): Promise<JobStatusBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.jobStatus(permitId);
      if (status && states.includes(status.state)) return status;
      if (Date.now() > deadline) {
        throw new Error(
          `permit ${permitId} not in ${states.join('|')} after ${timeoutMs} ms: ${JSON.stringify(status)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  withdraw(donor: 'donorA' | 'donorB', sample: number): Promise<void> {
    return mined(
      this.as(donor).DatasetRegistry.withdrawConsent(
        this.datasetId,
        BigInt(this.consentIds[sample]!),
        id(`consent ${this.consentIds[sample]}`),
        this.tree.proofs[sample]!,
      ),
    );
  }

  /** The steward fetches the result with a result ticket and decrypts it with its secret key. */
  async decryptResult(permitId: bigint, commitment: string) {
    const ticket = await this.client.requestTicket(this.signers.steward, {
      sbtId: this.sbt.steward,
      datasetId: this.datasetId,
      op: OP.READ,
      permitId,
    });
    const bytes = await this.client.fetchResult(ticket, commitment);
    return this.engine.decryptGenotypeCounts({
      secretKeys: this.keys.secretKeys,
      layout: this.manifest.genotypeLayout,
      result: bytes,
    });
  }

  async stop(): Promise<void> {
    await this.orchestrator?.stop();
    await this.gateway?.stop();
    this.client?.close();
    await this.engine.close();
    this.provider?.destroy();
    await this.anvil?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
