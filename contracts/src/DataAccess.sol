// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {UsageLog} from "./UsageLog.sol";
import {IDataAccess} from "./interfaces/IDataAccess.sol";
import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {IIdentitySBT} from "./interfaces/IIdentitySBT.sol";
import {CosTypes} from "./libraries/CosTypes.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/**
 * @title DataAccess
 * @notice The access ACL: a lab requests access to a dataset, the dataset's owner grants it with ten clauses, and
 * every use is checked and charged here, whether a ticketed use the gateway records (UsageLog) or a compute job
 * permit. The clauses:
 *  1. the grant is bound to the grantee's identity sbtId;
 *  2. scope: one dataset and an opMask of READ | LIST | EXPORT | COMPUTE;
 *  3. purposeHash: the declared purpose, which every job permit must repeat;
 *  4. notBefore, expiry, maxRuns and a rate limit (rateMaxRuns per rateWindow seconds);
 *  5. regionCode: the grantee (and, for results, the orchestrator) must hold a current region attestation;
 *  6. privacy budget: epsilon and delta caps, charged per permit;
 *  7. termsHash: the output policy, with whether key switching to the grantee is allowed;
 *  8. revocation by the dataset owner, effective at once; runs already used are settled on the grant's terms;
 *  9. events Requested, Granted, Used, Revoked, JobPermitIssued, JobResultPosted;
 * 10. settlement hooks: a per-use fee prepaid into the Settlement contract (paidRuns) and a royalty split.
 *
 * A grant's id is its request's id. There is at most one open request or usable grant per (dataset, grantee).
 */
contract DataAccess is IDataAccess, UsageLog, Ownable2Step {
    using SafeCast for uint256;

    /// @notice The clauses a dataset owner sets when granting.
    struct GrantTerms {
        uint8 opMask;
        uint40 notBefore;
        uint40 expiry;
        uint32 maxRuns;
        uint32 rateWindow;
        uint16 rateMaxRuns;
        bytes2 regionCode;
        uint48 epsilonCap;
        uint64 deltaCap;
        bytes32 termsHash;
        bool keySwitchAllowed;
        uint88 feePerUse;
        uint16 ownerBps;
        uint16 donorsBps;
        uint16 platformBps;
    }

    /// @notice A grant as the app reads it.
    struct GrantView {
        uint256 datasetId;
        uint256 granteeSbtId;
        GrantStatus status;
        uint8 opMask;
        bytes32 purposeHash;
        uint40 notBefore;
        uint40 expiry;
        uint32 maxRuns;
        uint32 runsUsed;
        uint32 paidRuns;
        uint32 rateWindow;
        uint16 rateMaxRuns;
        uint40 windowStart;
        uint16 windowRuns;
        bytes2 regionCode;
        uint48 epsilonCap;
        uint48 epsilonSpent;
        uint64 deltaCap;
        uint64 deltaSpent;
        bytes32 termsHash;
        bool keySwitchAllowed;
        uint88 feePerUse;
        uint16 ownerBps;
        uint16 donorsBps;
        uint16 platformBps;
    }

    /// @notice A compute job permit as the app reads it.
    struct JobPermit {
        uint256 grantId;
        bytes32 algorithmId;
        uint48 epsilon;
        uint64 delta;
        uint40 issuedAt;
        bytes32 resultCommitment;
    }

    // Slot 1, written by the request and completed by the grant.
    struct GrantScope {
        uint40 datasetId;
        uint40 granteeSbtId;
        uint40 notBefore;
        uint40 expiry;
        uint32 maxRuns;
        bytes2 regionCode;
        uint8 opMask;
        GrantStatus status;
        bool keySwitchAllowed;
    }

    // Slot 2: run counters, rate window, prepaid runs and the fee per run.
    struct GrantUsage {
        uint32 runsUsed;
        uint32 paidRuns;
        uint32 rateWindow;
        uint16 rateMaxRuns;
        uint16 windowRuns;
        uint40 windowStart;
        uint88 feePerUse;
    }

    // Slot 3: privacy budget and the royalty split (platform share = BPS - owner - donors).
    struct GrantBudget {
        uint48 epsilonCap;
        uint48 epsilonSpent;
        uint64 deltaCap;
        uint64 deltaSpent;
        uint16 ownerBps;
        uint16 donorsBps;
    }

    struct Grant {
        GrantScope scope;
        GrantUsage usage;
        GrantBudget budget;
        bytes32 purposeHash;
        bytes32 termsHash;
    }

    // One slot per permit; "result posted" is a non-zero commitment in _resultCommitments.
    struct Permit {
        uint40 grantId;
        uint48 epsilon;
        uint64 delta;
        uint40 issuedAt;
        uint32 algorithmIndex;
    }

    struct Algorithm {
        uint32 index;
        bool retired;
    }

    IIdentitySBT private immutable _identity;
    IDatasetRegistry private immutable _registry;
    address private _settlement;
    // Next ids; they start at 1 so that every increment rewrites a non-zero slot.
    uint256 private _nextGrantId = 1;
    uint256 private _nextPermitId = 1;
    mapping(uint256 grantId => Grant) private _grants;
    mapping(uint256 datasetId => mapping(uint256 granteeSbtId => uint256 grantId)) private _grantIndex;
    mapping(uint256 permitId => Permit) private _permits;
    mapping(uint256 permitId => bytes32) private _resultCommitments;
    mapping(bytes32 algorithmId => Algorithm) private _algorithms;
    bytes32[] private _algorithmIds;

    /// @notice Lab `granteeSbtId` (account `requester`) asked for `opMask` on `datasetId` for `purposeHash`;
    /// `purposeCodes` are the declared DUO purpose codes (bitmask, see docs/CONTRACTS.md).
    event Requested(
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint256 indexed granteeSbtId,
        address requester,
        uint8 opMask,
        bytes32 purposeHash,
        uint64 purposeCodes
    );

    /// @notice The dataset owner granted request `grantId` with `terms`.
    event Granted(uint256 indexed grantId, uint256 indexed datasetId, uint256 indexed granteeSbtId, GrantTerms terms);

    /// @notice The dataset owner declined request `grantId`.
    event Denied(uint256 indexed grantId, uint256 indexed datasetId, uint256 indexed granteeSbtId);

    /// @notice The dataset owner revoked grant `grantId` after `runsUsed` runs.
    event Revoked(uint256 indexed grantId, uint256 indexed datasetId, uint256 indexed granteeSbtId, uint32 runsUsed);

    /// @notice Permit `permitId` lets a registered orchestrator run `algorithmId` on `datasetId` (run `runIndex`
    /// of grant `grantId`), charging `epsilon` and `delta`; compute must stay in `regionCode` (0: anywhere).
    event JobPermitIssued(
        uint256 indexed permitId,
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint256 granteeSbtId,
        bytes32 algorithmId,
        bytes32 paramsHash,
        uint48 epsilon,
        uint64 delta,
        bytes2 regionCode,
        uint32 runIndex
    );

    /// @notice Orchestrator `orchestratorSbtId` posted the encrypted result of permit `permitId`.
    event JobResultPosted(
        uint256 indexed permitId,
        uint256 indexed grantId,
        uint256 indexed orchestratorSbtId,
        bytes32 resultCommitment,
        string resultURI
    );

    /// @notice The dataset owner issued key-switching material for permit `permitId`'s result to the grantee.
    event KeySwitchIssued(uint256 indexed permitId, uint256 indexed grantId, bytes32 shareCommitment);

    /// @notice The settlement credited `runs` prepaid runs to `grantId` (now `paidRuns`).
    event PaidRunsCredited(uint256 indexed grantId, uint32 runs, uint32 paidRuns);

    /// @notice Algorithm `algorithmId` may be named by job permits.
    event AlgorithmRegistered(bytes32 indexed algorithmId, uint32 index);

    /// @notice Algorithm `algorithmId` may no longer be named by new job permits.
    event AlgorithmRetired(bytes32 indexed algorithmId);

    /// @notice The settlement contract was set (once).
    event SettlementSet(address settlement);

    // Access failures: the same reasons canAccess answers false for.
    error DataAccessUnknownGrant(uint256 grantId);
    error DataAccessGrantNotActive(uint256 grantId);
    error DataAccessGrantRevoked(uint256 grantId);
    error DataAccessGrantNotYetValid(uint256 grantId);
    error DataAccessGrantExpired(uint256 grantId);
    error DataAccessOpNotGranted(uint256 grantId);
    error DataAccessRunsExhausted(uint256 grantId);
    error DataAccessEscrowExhausted(uint256 grantId);
    error DataAccessRateLimited(uint256 grantId);
    error DataAccessGranteeNotHolder(uint256 grantId);
    error DataAccessRegionNotAttested(uint256 grantId);

    error DataAccessMissingRole(address account, uint16 role);
    error DataAccessUnknownDataset(uint256 datasetId);
    error DataAccessNotDatasetOwner(uint256 datasetId, address account);
    error DataAccessInvalidOpMask(uint8 opMask);
    error DataAccessInvalidOp(uint8 op);
    error DataAccessInvalidPurpose();
    error DataAccessGrantExists(uint256 grantId);
    error DataAccessNotRequested(uint256 grantId);
    error DataAccessNotGranted(uint256 grantId);
    error DataAccessInvalidWindow(uint40 notBefore, uint40 expiry);
    error DataAccessInvalidRuns(uint32 maxRuns);
    error DataAccessInvalidRateLimit(uint32 rateWindow, uint16 rateMaxRuns);
    error DataAccessInvalidRegion(bytes2 regionCode);
    error DataAccessInvalidBudget(uint48 epsilonCap, uint64 deltaCap);
    error DataAccessInvalidTerms();
    error DataAccessInvalidSplit(uint16 ownerBps, uint16 donorsBps, uint16 platformBps);
    error DataAccessPurposeMismatch(uint256 grantId, bytes32 purposeHash);
    error DataAccessBudgetExceeded(uint256 grantId, uint48 epsilon, uint64 delta);
    error DataAccessUnknownAlgorithm(bytes32 algorithmId);
    error DataAccessAlgorithmExists(bytes32 algorithmId);
    error DataAccessUnknownPermit(uint256 permitId);
    error DataAccessResultAlreadyPosted(uint256 permitId);
    error DataAccessResultNotPosted(uint256 permitId);
    error DataAccessInvalidResult();
    error DataAccessOrchestratorOutOfRegion(uint256 permitId, bytes2 regionCode);
    error DataAccessKeySwitchNotAllowed(uint256 grantId);
    error DataAccessNotSettlement(address account);
    error DataAccessSettlementAlreadySet();
    error DataAccessInvalidSettlement(address settlement);
    error DataAccessNoFee(uint256 grantId);
    error DataAccessPaidRunsAboveMax(uint256 grantId, uint32 runs);

    /**
     * @notice Deploys the ACL over `identity_` and `registry_`; grant and permit ids start at 1.
     * @param identity_ Identity SBT: grantees, role attestations, region attestations.
     * @param registry_ Dataset registry: dataset owners.
     * @param admin Owner of this contract (sets the settlement once, registers algorithms).
     */
    constructor(IIdentitySBT identity_, IDatasetRegistry registry_, address admin) Ownable(admin) {
        _identity = identity_;
        _registry = registry_;
    }

    // ---------------------------------------------------------------- request, grant, deny, revoke

    /**
     * @notice Asks the owner of `datasetId` for `opMask` access for the purpose `purposeHash`.
     *
     * Requirements:
     * - the caller holds an identity token attested as lab;
     * - the dataset exists;
     * - `opMask` is a non-empty subset of READ | LIST | EXPORT | COMPUTE; `purposeHash` is not zero;
     * - the caller has no open request and no usable grant on this dataset.
     *
     * Emits Requested.
     */
    function request(uint256 datasetId, uint8 opMask, bytes32 purposeHash, uint64 purposeCodes)
        external
        returns (uint256 grantId)
    {
        uint256 sbtId = _requireRole(msg.sender, CosTypes.ROLE_LAB);
        if (_registry.datasetOwner(datasetId) == address(0)) revert DataAccessUnknownDataset(datasetId);
        if (opMask == 0 || opMask & ~CosTypes.OP_ALL != 0) revert DataAccessInvalidOpMask(opMask);
        if (purposeHash == bytes32(0)) revert DataAccessInvalidPurpose();
        uint256 previous = _grantIndex[datasetId][sbtId];
        if (previous != 0 && _isOpen(_grants[previous])) revert DataAccessGrantExists(previous);

        grantId = _nextGrantId++;
        Grant storage record = _grants[grantId];
        record.scope = GrantScope({
            datasetId: datasetId.toUint40(),
            granteeSbtId: sbtId.toUint40(),
            notBefore: 0,
            expiry: 0,
            maxRuns: 0,
            regionCode: bytes2(0),
            opMask: opMask,
            status: GrantStatus.Requested,
            keySwitchAllowed: false
        });
        record.purposeHash = purposeHash;
        _grantIndex[datasetId][sbtId] = grantId;
        emit Requested(grantId, datasetId, sbtId, msg.sender, opMask, purposeHash, purposeCodes);
    }

    /**
     * @notice Grants request `grantId` with `terms`.
     *
     * Requirements:
     * - the caller owns the dataset; the request is pending;
     * - `terms.opMask` is a non-empty subset of the ops requested;
     * - `terms.expiry` is after `terms.notBefore` and after now;
     * - `terms.maxRuns` is not zero; `terms.rateWindow` and `terms.rateMaxRuns` are both zero or both not;
     * - `terms.regionCode` is 0 (anywhere) or two upper-case letters;
     * - `terms.deltaCap` is at most 1 (CosTypes.DELTA_SCALE); `terms.termsHash` is not zero;
     * - `terms.ownerBps + terms.donorsBps + terms.platformBps` is 10,000.
     *
     * Emits Granted.
     */
    function grant(uint256 grantId, GrantTerms calldata terms) external {
        Grant storage record = _grants[grantId];
        GrantScope memory scope = record.scope;
        if (scope.status != GrantStatus.Requested) revert DataAccessNotRequested(grantId);
        _requireDatasetOwner(scope.datasetId);
        _validateTerms(terms, scope.opMask);

        record.scope = GrantScope({
            datasetId: scope.datasetId,
            granteeSbtId: scope.granteeSbtId,
            notBefore: terms.notBefore,
            expiry: terms.expiry,
            maxRuns: terms.maxRuns,
            regionCode: terms.regionCode,
            opMask: terms.opMask,
            status: GrantStatus.Granted,
            keySwitchAllowed: terms.keySwitchAllowed
        });
        record.usage = GrantUsage({
            runsUsed: 0,
            paidRuns: 0,
            rateWindow: terms.rateWindow,
            rateMaxRuns: terms.rateMaxRuns,
            windowRuns: 0,
            windowStart: 0,
            feePerUse: terms.feePerUse
        });
        record.budget = GrantBudget({
            epsilonCap: terms.epsilonCap,
            epsilonSpent: 0,
            deltaCap: terms.deltaCap,
            deltaSpent: 0,
            ownerBps: terms.ownerBps,
            donorsBps: terms.donorsBps
        });
        record.termsHash = terms.termsHash;
        emit Granted(grantId, scope.datasetId, scope.granteeSbtId, terms);
    }

    /**
     * @notice Declines request `grantId`.
     *
     * Requirements:
     * - the caller owns the dataset; the request is pending.
     *
     * Emits Denied.
     */
    function deny(uint256 grantId) external {
        GrantScope storage scope = _grants[grantId].scope;
        if (scope.status != GrantStatus.Requested) revert DataAccessNotRequested(grantId);
        _requireDatasetOwner(scope.datasetId);
        scope.status = GrantStatus.Denied;
        emit Denied(grantId, scope.datasetId, scope.granteeSbtId);
    }

    /**
     * @notice Revokes grant `grantId` at once: no use and no permit after this. Runs already used stay charged
     * and are settled on the grant's terms; unused prepaid runs are refunded by the Settlement.
     *
     * Requirements:
     * - the caller owns the dataset; the grant's status is Granted.
     *
     * Emits Revoked.
     */
    function revoke(uint256 grantId) external {
        Grant storage record = _grants[grantId];
        GrantScope storage scope = record.scope;
        if (scope.status != GrantStatus.Granted) revert DataAccessNotGranted(grantId);
        _requireDatasetOwner(scope.datasetId);
        scope.status = GrantStatus.Revoked;
        emit Revoked(grantId, scope.datasetId, scope.granteeSbtId, record.usage.runsUsed);
    }

    // ---------------------------------------------------------------- access checks

    /**
     * @notice Whether `grantee`, holding `sbtId`, may use `op` (one op bit) on `datasetId` right now: a grant
     * bound to `sbtId` is Granted, inside notBefore..expiry, allows `op`, has runs, rate and prepaid escrow left,
     * `grantee` still holds `sbtId`, and the region attestation matches where the grant names a region.
     */
    function canAccess(uint256 sbtId, address grantee, uint256 datasetId, uint8 op) external view returns (bool) {
        uint256 grantId = _grantIndex[datasetId][sbtId];
        if (grantId == 0 || grantee == address(0)) return false;
        return _accessFailure(_grants[grantId], op, grantee) == bytes4(0);
    }

    /**
     * @notice Like canAccess, but reverts with the reason (a DataAccess* custom error) and returns the grant id.
     */
    function checkAccess(uint256 sbtId, address grantee, uint256 datasetId, uint8 op)
        external
        view
        returns (uint256 grantId)
    {
        grantId = _grantIndex[datasetId][sbtId];
        bytes4 failure =
            grantee == address(0) ? DataAccessGranteeNotHolder.selector : _accessFailure(_grants[grantId], op, grantee);
        if (failure != bytes4(0)) _revertForGrant(failure, grantId);
    }

    // ---------------------------------------------------------------- compute: permits and results

    /**
     * @notice Issues a compute job permit under grant `grantId`, charging one run and (`epsilon`, `delta`) of the
     * privacy budget atomically.
     *
     * Requirements:
     * - `algorithmId` is registered and not retired;
     * - the caller holds the grantee's sbtId and the grant allows COMPUTE now (the canAccess rules);
     * - `purposeHash` is the grant's purpose;
     * - epsilonSpent + `epsilon` <= epsilonCap and deltaSpent + `delta` <= deltaCap.
     *
     * Emits JobPermitIssued.
     */
    function issueJobPermit(
        uint256 grantId,
        bytes32 algorithmId,
        bytes32 purposeHash,
        uint48 epsilon,
        uint64 delta,
        bytes32 paramsHash
    ) external returns (uint256 permitId) {
        Algorithm memory algorithm = _algorithms[algorithmId];
        if (algorithm.index == 0 || algorithm.retired) revert DataAccessUnknownAlgorithm(algorithmId);
        Grant storage record = _grants[grantId];
        (GrantScope memory scope, uint32 runIndex) = _charge(grantId, record, CosTypes.OP_COMPUTE, msg.sender);
        if (purposeHash != record.purposeHash) revert DataAccessPurposeMismatch(grantId, purposeHash);
        _chargeBudget(grantId, record.budget, epsilon, delta);

        permitId = _nextPermitId++;
        _permits[permitId] = Permit({
            grantId: uint40(grantId),
            epsilon: epsilon,
            delta: delta,
            issuedAt: uint40(block.timestamp),
            algorithmIndex: algorithm.index
        });
        emit JobPermitIssued(
            permitId,
            grantId,
            scope.datasetId,
            scope.granteeSbtId,
            algorithmId,
            paramsHash,
            epsilon,
            delta,
            scope.regionCode,
            runIndex
        );
    }

    /**
     * @notice Posts the encrypted result of permit `permitId`: a commitment to it and where it is stored.
     *
     * Requirements:
     * - the caller holds an identity token attested as orchestrator;
     * - the permit exists and has no result yet (one result per permit);
     * - `resultCommitment` is not zero; `resultURI` is not empty and at most CosTypes.MAX_URI_LENGTH bytes;
     * - where the grant names a region, the orchestrator holds a current attestation for it.
     *
     * Emits JobResultPosted.
     */
    function postJobResult(uint256 permitId, bytes32 resultCommitment, string calldata resultURI) external {
        uint256 orchestratorSbtId = _requireRole(msg.sender, CosTypes.ROLE_ORCHESTRATOR);
        uint256 grantId = _permits[permitId].grantId;
        if (grantId == 0) revert DataAccessUnknownPermit(permitId);
        if (_resultCommitments[permitId] != bytes32(0)) revert DataAccessResultAlreadyPosted(permitId);
        uint256 uriLength = bytes(resultURI).length;
        if (resultCommitment == bytes32(0) || uriLength == 0 || uriLength > CosTypes.MAX_URI_LENGTH) {
            revert DataAccessInvalidResult();
        }
        bytes2 regionCode = _grants[grantId].scope.regionCode;
        if (regionCode != bytes2(0)) {
            (, bytes2 region, uint40 regionValidUntil) = _identity.identityOf(orchestratorSbtId);
            if (region != regionCode || block.timestamp >= regionValidUntil) {
                revert DataAccessOrchestratorOutOfRegion(permitId, regionCode);
            }
        }
        _resultCommitments[permitId] = resultCommitment;
        emit JobResultPosted(permitId, grantId, orchestratorSbtId, resultCommitment, resultURI);
    }

    /**
     * @notice Records that the dataset owner issued key-switching material for permit `permitId`'s result, so the
     * grantee decrypts it with its own key; `shareCommitment` commits to that material.
     *
     * Requirements:
     * - the caller owns the dataset;
     * - the permit's result is posted;
     * - the grant is not revoked and its terms allow key switching.
     *
     * Emits KeySwitchIssued.
     */
    function recordKeySwitch(uint256 permitId, bytes32 shareCommitment) external {
        uint256 grantId = _permits[permitId].grantId;
        if (grantId == 0) revert DataAccessUnknownPermit(permitId);
        GrantScope memory scope = _grants[grantId].scope;
        _requireDatasetOwner(scope.datasetId);
        if (_resultCommitments[permitId] == bytes32(0)) revert DataAccessResultNotPosted(permitId);
        if (!scope.keySwitchAllowed || scope.status != GrantStatus.Granted) {
            revert DataAccessKeySwitchNotAllowed(grantId);
        }
        if (shareCommitment == bytes32(0)) revert DataAccessInvalidResult();
        emit KeySwitchIssued(permitId, grantId, shareCommitment);
    }

    // ---------------------------------------------------------------- settlement hook

    /// @inheritdoc IDataAccess
    /// @dev Requirements: the caller is the settlement; the grant is Granted and not expired; it has a fee;
    /// paidRuns + `runs` <= maxRuns and `runs` is not zero. Emits PaidRunsCredited.
    function creditPaidRuns(uint256 grantId, uint32 runs) external {
        if (msg.sender != _settlement) revert DataAccessNotSettlement(msg.sender);
        Grant storage record = _grants[grantId];
        GrantScope memory scope = record.scope;
        if (scope.status != GrantStatus.Granted || block.timestamp >= scope.expiry) {
            revert DataAccessGrantNotActive(grantId);
        }
        GrantUsage storage usage = record.usage;
        if (usage.feePerUse == 0) revert DataAccessNoFee(grantId);
        uint256 paidRuns = uint256(usage.paidRuns) + runs;
        if (runs == 0 || paidRuns > scope.maxRuns) revert DataAccessPaidRunsAboveMax(grantId, runs);
        usage.paidRuns = uint32(paidRuns);
        emit PaidRunsCredited(grantId, runs, uint32(paidRuns));
    }

    /// @inheritdoc IDataAccess
    function settlementTerms(uint256 grantId) external view returns (SettlementTerms memory terms) {
        Grant storage record = _grants[grantId];
        GrantScope memory scope = record.scope;
        GrantUsage memory usage = record.usage;
        GrantBudget memory budget = record.budget;
        terms = SettlementTerms({
            datasetId: scope.datasetId,
            granteeSbtId: scope.granteeSbtId,
            status: scope.status,
            expiry: scope.expiry,
            maxRuns: scope.maxRuns,
            runsUsed: usage.runsUsed,
            paidRuns: usage.paidRuns,
            feePerUse: usage.feePerUse,
            ownerBps: budget.ownerBps,
            donorsBps: budget.donorsBps,
            platformBps: _platformBps(scope.status, budget)
        });
    }

    // ---------------------------------------------------------------- administration

    /**
     * @notice Sets, once, the settlement contract allowed to credit prepaid runs.
     *
     * Requirements:
     * - the caller is the owner; no settlement was set before; `settlement_` is a contract.
     *
     * Emits SettlementSet.
     */
    function setSettlement(address settlement_) external onlyOwner {
        if (_settlement != address(0)) revert DataAccessSettlementAlreadySet();
        if (settlement_.code.length == 0) revert DataAccessInvalidSettlement(settlement_);
        _settlement = settlement_;
        emit SettlementSet(settlement_);
    }

    /**
     * @notice Lets job permits name `algorithmId` (keccak256("cos.alg.<name>.v<N>")).
     *
     * Requirements:
     * - the caller is the owner; `algorithmId` is not zero and was never registered.
     *
     * Emits AlgorithmRegistered.
     */
    function registerAlgorithm(bytes32 algorithmId) external onlyOwner {
        if (algorithmId == bytes32(0) || _algorithms[algorithmId].index != 0) {
            revert DataAccessAlgorithmExists(algorithmId);
        }
        _algorithmIds.push(algorithmId);
        uint32 index = uint32(_algorithmIds.length);
        _algorithms[algorithmId] = Algorithm({index: index, retired: false});
        emit AlgorithmRegistered(algorithmId, index);
    }

    /**
     * @notice Stops new permits from naming `algorithmId`; permits already issued keep it.
     *
     * Requirements:
     * - the caller is the owner; `algorithmId` is registered and not retired.
     *
     * Emits AlgorithmRetired.
     */
    function retireAlgorithm(bytes32 algorithmId) external onlyOwner {
        Algorithm storage algorithm = _algorithms[algorithmId];
        if (algorithm.index == 0 || algorithm.retired) revert DataAccessUnknownAlgorithm(algorithmId);
        algorithm.retired = true;
        emit AlgorithmRetired(algorithmId);
    }

    // ---------------------------------------------------------------- views

    /// @notice Grant (or request) `grantId`; status None if it does not exist.
    function getGrant(uint256 grantId) external view returns (GrantView memory view_) {
        Grant storage record = _grants[grantId];
        GrantScope memory scope = record.scope;
        GrantUsage memory usage = record.usage;
        GrantBudget memory budget = record.budget;
        view_.datasetId = scope.datasetId;
        view_.granteeSbtId = scope.granteeSbtId;
        view_.status = scope.status;
        view_.opMask = scope.opMask;
        view_.purposeHash = record.purposeHash;
        view_.notBefore = scope.notBefore;
        view_.expiry = scope.expiry;
        view_.maxRuns = scope.maxRuns;
        view_.runsUsed = usage.runsUsed;
        view_.paidRuns = usage.paidRuns;
        view_.rateWindow = usage.rateWindow;
        view_.rateMaxRuns = usage.rateMaxRuns;
        view_.windowStart = usage.windowStart;
        view_.windowRuns = usage.windowRuns;
        view_.regionCode = scope.regionCode;
        view_.epsilonCap = budget.epsilonCap;
        view_.epsilonSpent = budget.epsilonSpent;
        view_.deltaCap = budget.deltaCap;
        view_.deltaSpent = budget.deltaSpent;
        view_.termsHash = record.termsHash;
        view_.keySwitchAllowed = scope.keySwitchAllowed;
        view_.feePerUse = usage.feePerUse;
        view_.ownerBps = budget.ownerBps;
        view_.donorsBps = budget.donorsBps;
        view_.platformBps = _platformBps(scope.status, budget);
    }

    /// @notice The latest request or grant of `granteeSbtId` on `datasetId` (0 if none).
    function grantIdOf(uint256 datasetId, uint256 granteeSbtId) external view returns (uint256) {
        return _grantIndex[datasetId][granteeSbtId];
    }

    /// @notice How many requests were made; grant ids run from 1 to this.
    function grantCount() external view returns (uint256) {
        return _nextGrantId - 1;
    }

    /// @notice Job permit `permitId`. Reverts with DataAccessUnknownPermit if it does not exist.
    function getJobPermit(uint256 permitId) external view returns (JobPermit memory) {
        Permit memory permit = _permits[permitId];
        if (permit.grantId == 0) revert DataAccessUnknownPermit(permitId);
        return JobPermit({
            grantId: permit.grantId,
            algorithmId: _algorithmIds[permit.algorithmIndex - 1],
            epsilon: permit.epsilon,
            delta: permit.delta,
            issuedAt: permit.issuedAt,
            resultCommitment: _resultCommitments[permitId]
        });
    }

    /// @notice How many job permits were issued; permit ids run from 1 to this.
    function permitCount() external view returns (uint256) {
        return _nextPermitId - 1;
    }

    /// @notice Whether job permits may name `algorithmId`.
    function isAlgorithmActive(bytes32 algorithmId) external view returns (bool) {
        Algorithm memory algorithm = _algorithms[algorithmId];
        return algorithm.index != 0 && !algorithm.retired;
    }

    /// @notice Every algorithm ever registered, in registration order (retired ones included).
    function algorithmIds() external view returns (bytes32[] memory) {
        return _algorithmIds;
    }

    /// @notice The identity SBT contract.
    function identity() external view returns (IIdentitySBT) {
        return _identity;
    }

    /// @notice The dataset registry.
    function registry() external view returns (IDatasetRegistry) {
        return _registry;
    }

    /// @notice The settlement contract (address(0) until set).
    function settlement() external view returns (address) {
        return _settlement;
    }

    // ---------------------------------------------------------------- internals

    /// @notice Reverts unless the caller holds an identity token attested as gateway; returns its sbtId.
    function _requireGateway() internal view override returns (uint256) {
        return _requireRole(msg.sender, CosTypes.ROLE_GATEWAY);
    }

    /// @notice Checks a ticketed `op` against the grant like canAccess (any current holder) and consumes one run.
    function _chargeUse(uint256 grantId, uint8 op)
        internal
        override
        returns (uint256 datasetId, uint256 granteeSbtId, uint32 runIndex)
    {
        if (op != CosTypes.OP_READ && op != CosTypes.OP_LIST && op != CosTypes.OP_EXPORT) {
            revert DataAccessInvalidOp(op);
        }
        GrantScope memory scope;
        (scope, runIndex) = _charge(grantId, _grants[grantId], op, address(0));
        return (scope.datasetId, scope.granteeSbtId, runIndex);
    }

    /// @dev Checks the grant for `op` (and that `holder` holds the grantee's token, where given), then consumes a run.
    function _charge(uint256 grantId, Grant storage record, uint8 op, address holder)
        private
        returns (GrantScope memory scope, uint32 runIndex)
    {
        bytes4 failure = _accessFailure(record, op, holder);
        if (failure != bytes4(0)) _revertForGrant(failure, grantId);
        scope = record.scope;
        GrantUsage storage usage = record.usage;
        runIndex = usage.runsUsed + 1;
        usage.runsUsed = runIndex;
        if (usage.rateMaxRuns != 0) {
            if (block.timestamp >= uint256(usage.windowStart) + usage.rateWindow) {
                usage.windowStart = uint40(block.timestamp);
                usage.windowRuns = 1;
            } else {
                ++usage.windowRuns;
            }
        }
    }

    /// @dev The selector of the first access rule `op` fails on this grant, or 0. `holder` 0 accepts any holder.
    function _accessFailure(Grant storage record, uint8 op, address holder) private view returns (bytes4) {
        GrantScope memory scope = record.scope;
        if (scope.status != GrantStatus.Granted) {
            if (scope.status == GrantStatus.Revoked) return DataAccessGrantRevoked.selector;
            if (scope.status == GrantStatus.None) return DataAccessUnknownGrant.selector;
            return DataAccessGrantNotActive.selector;
        }
        if (block.timestamp < scope.notBefore) return DataAccessGrantNotYetValid.selector;
        if (block.timestamp >= scope.expiry) return DataAccessGrantExpired.selector;
        if (op == 0 || op & (op - 1) != 0 || scope.opMask & op == 0) return DataAccessOpNotGranted.selector;
        GrantUsage memory usage = record.usage;
        if (usage.runsUsed >= scope.maxRuns) return DataAccessRunsExhausted.selector;
        if (usage.feePerUse != 0 && usage.runsUsed >= usage.paidRuns) return DataAccessEscrowExhausted.selector;
        if (
            usage.rateMaxRuns != 0 && block.timestamp < uint256(usage.windowStart) + usage.rateWindow
                && usage.windowRuns >= usage.rateMaxRuns
        ) return DataAccessRateLimited.selector;
        (address current, bytes2 region, uint40 regionValidUntil) = _identity.identityOf(scope.granteeSbtId);
        if (current == address(0) || (holder != address(0) && current != holder)) {
            return DataAccessGranteeNotHolder.selector;
        }
        if (scope.regionCode != bytes2(0) && (region != scope.regionCode || block.timestamp >= regionValidUntil)) {
            return DataAccessRegionNotAttested.selector;
        }
        return bytes4(0);
    }

    function _chargeBudget(uint256 grantId, GrantBudget storage budget, uint48 epsilon, uint64 delta) private {
        uint48 epsilonSpent = budget.epsilonSpent;
        uint64 deltaSpent = budget.deltaSpent;
        if (epsilon > budget.epsilonCap - epsilonSpent || delta > budget.deltaCap - deltaSpent) {
            revert DataAccessBudgetExceeded(grantId, epsilon, delta);
        }
        budget.epsilonSpent = epsilonSpent + epsilon;
        budget.deltaSpent = deltaSpent + delta;
    }

    function _validateTerms(GrantTerms calldata terms, uint8 requestedOps) private view {
        if (terms.opMask == 0 || terms.opMask & ~requestedOps != 0) revert DataAccessInvalidOpMask(terms.opMask);
        if (terms.expiry <= terms.notBefore || terms.expiry <= block.timestamp) {
            revert DataAccessInvalidWindow(terms.notBefore, terms.expiry);
        }
        if (terms.maxRuns == 0) revert DataAccessInvalidRuns(terms.maxRuns);
        if ((terms.rateWindow == 0) != (terms.rateMaxRuns == 0)) {
            revert DataAccessInvalidRateLimit(terms.rateWindow, terms.rateMaxRuns);
        }
        bytes2 region = terms.regionCode;
        if (region != bytes2(0) && (region[0] < 0x41 || region[0] > 0x5a || region[1] < 0x41 || region[1] > 0x5a)) {
            revert DataAccessInvalidRegion(region);
        }
        if (terms.deltaCap > CosTypes.DELTA_SCALE) revert DataAccessInvalidBudget(terms.epsilonCap, terms.deltaCap);
        if (terms.termsHash == bytes32(0)) revert DataAccessInvalidTerms();
        if (uint256(terms.ownerBps) + terms.donorsBps + terms.platformBps != CosTypes.BPS) {
            revert DataAccessInvalidSplit(terms.ownerBps, terms.donorsBps, terms.platformBps);
        }
    }

    function _requireRole(address account, uint16 role) private view returns (uint256 sbtId) {
        uint16 roles;
        (sbtId, roles) = _identity.rolesOf(account);
        if (sbtId == 0 || roles & role == 0) revert DataAccessMissingRole(account, role);
    }

    function _requireDatasetOwner(uint256 datasetId) private view {
        if (_registry.datasetOwner(datasetId) != msg.sender) revert DataAccessNotDatasetOwner(datasetId, msg.sender);
    }

    /// @dev A request is open while pending; a grant while Granted, unexpired and with runs left.
    function _isOpen(Grant storage record) private view returns (bool) {
        GrantScope memory scope = record.scope;
        if (scope.status == GrantStatus.Requested) return true;
        return
            scope.status == GrantStatus.Granted && block.timestamp < scope.expiry
                && record.usage.runsUsed < scope.maxRuns;
    }

    /// @dev The platform's share exists once terms were set (Granted, Revoked); before that it is 0.
    function _platformBps(GrantStatus status, GrantBudget memory budget) private pure returns (uint16) {
        if (status != GrantStatus.Granted && status != GrantStatus.Revoked) return 0;
        return uint16(CosTypes.BPS - budget.ownerBps - budget.donorsBps);
    }

    /// @dev Reverts with `selector(grantId)`: every access failure error takes the grant id alone.
    function _revertForGrant(bytes4 selector, uint256 grantId) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, grantId)
            revert(0x00, 0x24)
        }
    }
}
