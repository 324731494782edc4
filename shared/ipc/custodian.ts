import { z } from 'zod';

/**
 * The custodian's use cases on the IPC contract: profiles, datasets, requests and grants, job permits
 * and results, privacy budgets, royalties, donor consent and the audit trail. Numbers that can exceed
 * 2^53 (uint256 ids, token amounts, δ) travel as decimal strings; ids that are uint40 on chain travel
 * as numbers. Nothing here ever carries a key: profiles show addresses and fingerprints only.
 */

const hexOf = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`));
const address = hexOf(20);
const bytes32 = hexOf(32);
const decimal = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a decimal integer');
const id = z
  .number()
  .int()
  .positive()
  .max(2 ** 40 - 1);
const empty = z.object({}).strict();
const txReceipt = z.object({ txHash: bytes32, blockNumber: z.number().int().nonnegative() });
const path = z.string().min(1).max(4096);

export const profileRoleSchema = z.enum(['steward', 'donor', 'lab']);

export const profileViewSchema = z.object({
  id: z.string(),
  label: z.string(),
  role: profileRoleSchema,
  address,
  /** Secret name -> fingerprint of its public counterpart (`wallet`, `fhe`). */
  fingerprints: z.record(z.string(), z.string()),
  createdAt: z.string(),
  active: z.boolean(),
  /** Identity token on the current network, null before onboarding. */
  sbtId: z.number().int().positive().nullable(),
  roles: z.number().int().nonnegative(),
  /** `0x` + SHA-256 of the public FHE key bundle (what the chain records), null without FHE keys. */
  fheKeyDigest: bytes32.nullable(),
});
export type ProfileView = z.infer<typeof profileViewSchema>;

export const datasetViewSchema = z.object({
  datasetId: id,
  owner: address,
  manifestCommitment: bytes32,
  resourceURI: z.string(),
  fheParamsHash: bytes32,
  fheKeyFingerprint: bytes32,
  consentCodes: decimal,
  donorCount: z.number().int().nonnegative(),
  withdrawnCount: z.number().int().nonnegative(),
  version: z.number().int().positive(),
  registeredBlock: z.number().int().nonnegative(),
  mine: z.boolean(),
});
export type DatasetView = z.infer<typeof datasetViewSchema>;

export const importDatasetRequestSchema = z
  .object({
    vcfPath: path,
    phenotypeCsvPath: path,
    phenotypeColumn: z.string().min(1).max(200),
    sampleIdColumn: z.string().min(1).max(200).optional(),
    consentIdColumn: z.string().min(1).max(200).optional(),
    covariateColumns: z.array(z.string().min(1).max(200)).max(64).optional(),
    /** DUO bitmask the donors consented to (decimal uint64). */
    consentCodes: decimal,
    royaltyBps: z.number().int().min(0).max(10_000).default(0),
    /** Progress events carry this id. */
    taskId: z.string().min(1).max(128),
  })
  .strict();

export const importDatasetResponseSchema = z.object({
  dataset: datasetViewSchema,
  txHash: bytes32,
  samples: z.number().int().nonnegative(),
  snps: z.number().int().nonnegative(),
  bytesPerGenotype: z.number().nonnegative(),
  uploadedObjects: z.number().int().nonnegative(),
  /** Folder of per-donor consent receipts (the proof each donor needs to withdraw or restore). */
  consentReceiptsDir: z.string(),
});

export const requestViewSchema = z.object({
  grantId: id,
  datasetId: id,
  granteeSbtId: id,
  requester: address,
  opMask: z.number().int().min(1).max(15),
  purposeHash: bytes32,
  purposeCodes: decimal,
  status: z.enum(['Requested', 'Granted', 'Denied']),
  requestedBlock: z.number().int().nonnegative(),
});
export type RequestView = z.infer<typeof requestViewSchema>;

/** The clauses of a grant, in on-chain units (ε in micro-units, δ in 1e-18 units, fee in base units). */
export const grantTermsSchema = z
  .object({
    opMask: z.number().int().min(1).max(15),
    notBefore: z.number().int().nonnegative(),
    expiry: z.number().int().positive(),
    maxRuns: z
      .number()
      .int()
      .positive()
      .max(2 ** 32 - 1),
    rateWindow: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 32 - 1),
    rateMaxRuns: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 16 - 1),
    /** ISO 3166-1 alpha-2 upper case, or '' for anywhere. */
    region: z.string().regex(/^([A-Z]{2})?$/),
    epsilonCap: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 48 - 1),
    deltaCap: decimal,
    /** Either the output-terms document (shared/terms; the core hashes it and keeps it) or its hash. */
    outputTerms: z.unknown().optional(),
    termsHash: bytes32.optional(),
    keySwitchAllowed: z.boolean().optional(),
    feePerUse: decimal,
    ownerBps: z.number().int().min(0).max(10_000),
    donorsBps: z.number().int().min(0).max(10_000),
  })
  .strict()
  .refine((terms) => terms.expiry > terms.notBefore, { message: 'expiry must be after notBefore' })
  .refine((terms) => terms.ownerBps + terms.donorsBps <= 10_000, { message: 'ownerBps + donorsBps exceed 10,000' })
  .refine(
    (terms) =>
      terms.outputTerms !== undefined || (terms.termsHash !== undefined && terms.keySwitchAllowed !== undefined),
    {
      message: 'give the output terms document, or termsHash and keySwitchAllowed',
    },
  );
export type GrantTermsInput = z.infer<typeof grantTermsSchema>;

export const grantViewSchema = z.object({
  grantId: id,
  datasetId: id,
  granteeSbtId: id,
  status: z.enum(['Granted', 'Revoked']),
  opMask: z.number().int(),
  notBefore: z.number().int(),
  expiry: z.number().int(),
  maxRuns: z.number().int(),
  runsUsed: z.number().int(),
  useCount: z.number().int(),
  jobPermitCount: z.number().int(),
  region: z.string(),
  epsilonCap: z.number().int(),
  epsilonSpent: z.number().int(),
  deltaCap: decimal,
  deltaSpent: decimal,
  termsHash: bytes32,
  keySwitchAllowed: z.boolean(),
  feePerUse: decimal,
  ownerBps: z.number().int(),
  donorsBps: z.number().int(),
  platformBps: z.number().int(),
});
export type GrantView = z.infer<typeof grantViewSchema>;

export const permitViewSchema = z.object({
  permitId: id,
  grantId: id,
  datasetId: id,
  algorithmId: bytes32,
  algorithm: z.string().nullable(),
  paramsHash: bytes32,
  epsilon: z.number().int(),
  delta: decimal,
  status: z.enum(['Issued', 'ResultPosted']),
  issuedBlock: z.number().int(),
  resultCommitment: bytes32.nullable(),
  resultURI: z.string().nullable(),
});
export type PermitView = z.infer<typeof permitViewSchema>;

export const resultStateSchema = z.enum(['waiting', 'decrypted', 'failed', 'not-owner']);
export const resultViewSchema = z.object({
  permitId: id,
  state: resultStateSchema,
  algorithm: z.string().nullable(),
  /** Samples the orchestrator left out (withdrawn consent at the permit's block). */
  excludedSamples: z.number().int().nonnegative().nullable(),
  /** The interpreted, decrypted result (a table per algorithm); only for the dataset's owner. */
  result: z.unknown().nullable(),
  error: z.string().nullable(),
});
export type ResultView = z.infer<typeof resultViewSchema>;

export const auditRowSchema = z.object({
  id: z.number().int().positive(),
  blockNumber: z.number().int().nonnegative(),
  blockHash: bytes32,
  txHash: bytes32,
  logIndex: z.number().int().nonnegative(),
  contract: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
  datasetId: z.number().int().nullable(),
  grantId: z.number().int().nullable(),
});
export type AuditRow = z.infer<typeof auditRowSchema>;

export const custodianChannels = {
  'profiles.list': { request: empty, response: z.array(profileViewSchema) },
  'profiles.create': {
    request: z.object({ label: z.string().min(1).max(80), role: profileRoleSchema }).strict(),
    response: profileViewSchema,
  },
  'profiles.unlock': {
    request: z.object({ profileId: z.string().min(1).max(64) }).strict(),
    response: profileViewSchema,
  },
  'profiles.lock': { request: empty, response: empty },
  /** Mints the identity token with the profile's role and publishes its FHE key fingerprint. */
  'profiles.onboard': { request: empty, response: profileViewSchema },
  'profiles.backup': {
    request: z
      .object({ profileId: z.string().min(1).max(64), passphrase: z.string().min(12).max(1024), path })
      .strict(),
    response: z.object({ path: z.string() }),
  },
  'profiles.restore': {
    request: z.object({ path, passphrase: z.string().min(1).max(1024) }).strict(),
    response: profileViewSchema,
  },

  'datasets.list': { request: empty, response: z.array(datasetViewSchema) },
  'datasets.import': { request: importDatasetRequestSchema, response: importDatasetResponseSchema },

  'requests.list': {
    request: z.object({ datasetId: id.optional(), mine: z.boolean().optional() }).strict(),
    response: z.array(requestViewSchema),
  },
  'access.request': {
    request: z
      .object({
        datasetId: id,
        opMask: z.number().int().min(1).max(15),
        purposeCodes: decimal,
        purposeText: z.string().min(1).max(4000),
      })
      .strict(),
    response: txReceipt.extend({ grantId: id, purposeHash: bytes32 }),
  },
  'access.grant': { request: z.object({ grantId: id, terms: grantTermsSchema }).strict(), response: txReceipt },
  'access.deny': { request: z.object({ grantId: id }).strict(), response: txReceipt },
  'access.revoke': { request: z.object({ grantId: id }).strict(), response: txReceipt },
  /** Prepays `runs` of a fee-bearing grant from the active profile's COS balance (approve + fundGrant). */
  'access.fund': {
    request: z
      .object({
        grantId: id,
        runs: z
          .number()
          .int()
          .positive()
          .max(2 ** 32 - 1),
      })
      .strict(),
    response: txReceipt.extend({ amount: decimal }),
  },
  'grants.list': {
    request: z.object({ datasetId: id.optional(), mine: z.boolean().optional() }).strict(),
    response: z.array(grantViewSchema),
  },

  'permits.issue': {
    request: z
      .object({
        grantId: id,
        algorithmId: bytes32,
        epsilon: z
          .number()
          .int()
          .nonnegative()
          .max(2 ** 48 - 1),
        delta: decimal,
        params: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
    response: txReceipt.extend({ permitId: id, paramsHash: bytes32 }),
  },
  'permits.list': { request: z.object({ grantId: id.optional() }).strict(), response: z.array(permitViewSchema) },
  'results.get': { request: z.object({ permitId: id }).strict(), response: resultViewSchema },
  /** Fetch, verify and decrypt again (after a failure, or to re-check). */
  'results.decrypt': { request: z.object({ permitId: id }).strict(), response: resultViewSchema },
  /** Writes the decrypted result (a permitted derivative) to a file for sharing. */
  'results.exportDerivative': {
    request: z.object({ permitId: id, path }).strict(),
    response: z.object({ path: z.string(), sha256: z.string() }),
  },

  'royalties.get': {
    request: empty,
    response: z.object({
      claimable: decimal,
      donor: z.array(z.object({ datasetId: id, donorSbtId: id, claimable: decimal })),
    }),
  },
  'royalties.settle': { request: z.object({ grantId: id }).strict(), response: txReceipt },
  'royalties.claim': { request: empty, response: txReceipt.extend({ amount: decimal }) },
  'royalties.claimDonor': {
    request: z.object({ datasetId: id }).strict(),
    response: txReceipt.extend({ amount: decimal }),
  },

  'consent.importReceipt': {
    request: z.object({ path }).strict(),
    response: z.object({ datasetId: id, donorSbtId: id }),
  },
  'consent.list': {
    request: empty,
    response: z.array(z.object({ datasetId: id, donorSbtId: id, withdrawn: z.boolean(), uses: z.number().int() })),
  },
  'consent.withdraw': { request: z.object({ datasetId: id }).strict(), response: txReceipt },
  'consent.restore': { request: z.object({ datasetId: id }).strict(), response: txReceipt },

  'audit.list': {
    request: z
      .object({
        datasetId: id.optional(),
        grantId: id.optional(),
        names: z.array(z.string().min(1).max(64)).max(32).optional(),
        offset: z.number().int().nonnegative().default(0),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    response: z.object({ total: z.number().int().nonnegative(), rows: z.array(auditRowSchema) }),
  },
  'audit.verify': {
    request: z.object({ id: z.number().int().positive() }).strict(),
    response: z.object({ id: z.number().int(), verified: z.boolean(), reason: z.string().nullable() }),
  },
} as const;

export const fileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['file', 'dir']),
  size: z.number().int().nonnegative().nullable(),
});

export const settingsSchema = z
  .object({
    /** devnet: what `npm start` provides (environment); custom: the values below. */
    network: z.enum(['devnet', 'custom']),
    rpcUrl: z.string().url().max(2048).nullable(),
    deploymentFile: path.nullable(),
    gatewayUrl: z.string().url().max(2048).nullable(),
    orchestratorUrl: z.string().url().max(2048).nullable(),
    confirmations: z.number().int().min(0).max(1000),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;

export const ticketViewSchema = z.object({
  ticketHash: bytes32,
  datasetId: id,
  op: z.number().int(),
  expiry: z.number().int(),
  gateway: address,
});

export const custodianExtraChannels = {
  /** A folder of this machine, for the file picker (the core runs here; the renderer cannot see files). */
  'files.list': {
    request: z.object({ dir: path.optional() }).strict(),
    response: z.object({ dir: z.string(), parent: z.string().nullable(), entries: z.array(fileEntrySchema) }),
  },
  /** The synthetic cohorts shipped with the app. */
  'files.samples': {
    request: empty,
    response: z.array(
      z.object({ name: z.string(), vcfPath: z.string(), phenotypeCsvPath: z.string(), description: z.string() }),
    ),
  },
  /** A gateway ticket for the active profile's grant (READ, LIST or EXPORT), valid 900 s. */
  'tickets.request': {
    request: z.object({ datasetId: id, op: z.union([z.literal(1), z.literal(2), z.literal(4)]) }).strict(),
    response: ticketViewSchema,
  },
  'tickets.list': { request: empty, response: z.array(ticketViewSchema) },
  /** Fetches the manifest (no digest) or one object under a ticket into the downloads folder. */
  'objects.fetch': {
    request: z
      .object({
        ticketHash: bytes32,
        digest: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
      })
      .strict(),
    response: z.object({ path: z.string(), sha256: z.string(), bytes: z.number().int().nonnegative() }),
  },
  'settings.get': {
    request: empty,
    response: z.object({ saved: settingsSchema, effective: settingsSchema, dataDir: z.string() }),
  },
  'settings.set': {
    request: settingsSchema,
    response: z.object({ saved: settingsSchema, restartRequired: z.boolean() }),
  },
} as const;

export const bundleViewSchema = z.object({
  permitId: id,
  algorithm: z.string().nullable(),
  kind: z.enum(['genotype-counts', 'numeric-sums']),
  excludedSamples: z.number().int().nonnegative(),
  resultCommitment: bytes32,
  shareCommitment: bytes32,
  termsHash: bytes32,
  /** null until checked against the chain (bundles.verify), then true or false. */
  verified: z.boolean().nullable(),
  verifyError: z.string().nullable(),
  result: z.unknown(),
});
export type BundleView = z.infer<typeof bundleViewSchema>;

export const keySwitchChannels = {
  /**
   * Owner: a per-result key-switching share of permit's result to the grantee's own FHE key, when the
   * grant's output terms allow it; recorded on chain (KeySwitchIssued) and written as a bundle file.
   */
  'results.keySwitch': {
    request: z.object({ permitId: id, path }).strict(),
    response: txReceipt.extend({ path: z.string(), shareCommitment: bytes32 }),
  },
  /** Lab, offline: decrypts a result bundle with the lab's own FHE key and keeps the result sealed. */
  'bundles.decrypt': { request: z.object({ path }).strict(), response: bundleViewSchema },
  'bundles.list': { request: empty, response: z.array(bundleViewSchema) },
  /** Lab, online: checks a decrypted bundle's claims against the chain (result, terms, KeySwitchIssued). */
  'bundles.verify': { request: z.object({ permitId: id }).strict(), response: bundleViewSchema },
} as const;

export const custodianEvents = {
  /** The local cache moved: sync progress for the status bar. */
  'chain.sync': z.object({ cursorBlock: z.number().int().nonnegative(), headBlock: z.number().int().nonnegative() }),
  /** Cached chain state changed (new events applied or rolled back). */
  'cache.changed': z.object({ names: z.array(z.string()), reorg: z.boolean() }),
  /** A result was fetched, verified and decrypted (or failed to be). */
  'result.decrypted': z.object({ permitId: id, state: resultStateSchema, error: z.string().nullable() }),
} as const;
