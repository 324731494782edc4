// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsentHook} from "./interfaces/IConsentHook.sol";
import {IDataAccess} from "./interfaces/IDataAccess.sol";
import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {IIdentitySBT} from "./interfaces/IIdentitySBT.sol";
import {CosTypes} from "./libraries/CosTypes.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/**
 * @title Settlement
 * @notice Fees and royalties in the COS token, always paid by pull. A grantee prepays runs into escrow
 * (fundGrant); DataAccess charges one run per use or permit; settle() splits the charged runs' fees by the grant's
 * royalty split between the dataset's ERC-2981 receiver (owner), the dataset's donors and the platform; after a
 * grant ends (revoked or expired) its unused prepaid runs are refunded to the payer. Nothing is pushed: every
 * account claims its balance, every donor claims its share with a proof of membership.
 *
 * Conservation: the token balance of this contract always equals totalEscrowed + totalClaimable + totalDonorPool,
 * and every part of that sum is claimable by someone.
 *
 * Donor shares use a per-dataset accrual: each settlement adds donorsAmount / activeDonors to the dataset's accrual
 * (the remainder of the division goes to the owner); a donor is owed the accrual growth while its consent stands.
 */
contract Settlement is IConsentHook, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Escrow state of a grant (one slot).
    struct Escrow {
        address payer;
        uint32 settledRuns;
        bool refunded;
    }

    struct DonorAccount {
        uint128 debt;
        uint128 credit;
    }

    IERC20 private immutable _token;
    IDataAccess private immutable _dataAccess;
    IDatasetRegistry private immutable _registry;
    IIdentitySBT private immutable _identity;
    address private _platformTreasury;
    uint256 private _totalEscrowed;
    uint256 private _totalClaimable;
    uint256 private _totalDonorPool;
    mapping(uint256 grantId => Escrow) private _escrows;
    mapping(address account => uint256) private _claimable;
    mapping(uint256 datasetId => uint256) private _donorAccrual;
    mapping(uint256 datasetId => mapping(uint256 donorSbtId => DonorAccount)) private _donors;

    /// @notice `payer` prepaid `runs` runs of grant `grantId` (`amount` tokens into escrow).
    event GrantFunded(uint256 indexed grantId, address indexed payer, uint32 runs, uint256 amount);

    /// @notice `runs` charged runs of grant `grantId` were split: `ownerAmount` to `ownerReceiver`, `donorsAmount`
    /// to the donors of `datasetId`, `platformAmount` to the platform treasury.
    event Settled(
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint32 runs,
        address ownerReceiver,
        uint256 ownerAmount,
        uint256 donorsAmount,
        uint256 platformAmount
    );

    /// @notice `runs` unused prepaid runs of grant `grantId` (`amount` tokens) became claimable by `payer`.
    event EscrowRefunded(uint256 indexed grantId, address indexed payer, uint32 runs, uint256 amount);

    /// @notice `account` claimed `amount` (owner royalties, platform fees or refunds).
    event RoyaltyClaimed(address indexed account, uint256 amount);

    /// @notice Donor `donorSbtId` (account `account`) claimed `amount` of its royalties from `datasetId`.
    event DonorRoyaltyClaimed(
        uint256 indexed datasetId, uint256 indexed donorSbtId, address indexed account, uint256 amount
    );

    /// @notice Platform shares of later settlements go to `treasury`.
    event PlatformTreasurySet(address treasury);

    error SettlementNotGrantee(uint256 grantId, address account);
    error SettlementNoFee(uint256 grantId);
    error SettlementGrantStillActive(uint256 grantId);
    error SettlementNothingToRefund(uint256 grantId);
    error SettlementNothingToClaim(address account);
    error SettlementNotRegistry(address account);
    error SettlementInvalidTreasury();
    error SettlementNotDonorHolder(uint256 donorSbtId, address account);
    error SettlementInvalidDonorProof(uint256 datasetId, uint256 donorSbtId);

    /**
     * @notice Wires the settlement to the token, the ACL, the registry and the identity contract.
     * @param token_ The fee token.
     * @param dataAccess_ The access ACL whose grants carry fees and run counters.
     * @param registry_ The dataset registry (royalty receivers, donors, consent).
     * @param identity_ The identity SBT (grantees and donors).
     * @param platformTreasury_ Receives the platform's shares.
     * @param admin Owner (may move the platform treasury).
     */
    constructor(
        IERC20 token_,
        IDataAccess dataAccess_,
        IDatasetRegistry registry_,
        IIdentitySBT identity_,
        address platformTreasury_,
        address admin
    ) Ownable(admin) {
        if (platformTreasury_ == address(0)) revert SettlementInvalidTreasury();
        _token = token_;
        _dataAccess = dataAccess_;
        _registry = registry_;
        _identity = identity_;
        _platformTreasury = platformTreasury_;
    }

    // ---------------------------------------------------------------- escrow

    /**
     * @notice Prepays `runs` runs of grant `grantId`: feePerUse x `runs` tokens move from the caller into escrow.
     *
     * Requirements:
     * - the caller holds the grantee's identity token;
     * - the grant has a fee, is Granted and not expired; paidRuns + `runs` <= maxRuns and `runs` is not zero;
     * - the caller approved this contract for the amount.
     *
     * Emits GrantFunded (and PaidRunsCredited on DataAccess).
     */
    function fundGrant(uint256 grantId, uint32 runs) external nonReentrant returns (uint256 amount) {
        IDataAccess.SettlementTerms memory terms = _dataAccess.settlementTerms(grantId);
        (address grantee,,) = _identity.identityOf(terms.granteeSbtId);
        if (terms.status == IDataAccess.GrantStatus.None || grantee != msg.sender) {
            revert SettlementNotGrantee(grantId, msg.sender);
        }
        if (terms.feePerUse == 0) revert SettlementNoFee(grantId);
        Escrow storage escrow = _escrows[grantId];
        if (escrow.payer == address(0)) escrow.payer = msg.sender;
        amount = uint256(terms.feePerUse) * runs;
        _totalEscrowed += amount;
        _dataAccess.creditPaidRuns(grantId, runs);
        _token.safeTransferFrom(msg.sender, address(this), amount);
        emit GrantFunded(grantId, msg.sender, runs, amount);
    }

    /**
     * @notice Splits the fees of the runs grant `grantId` used since the last settlement. Anyone may call it;
     * it returns 0 and changes nothing when there is nothing to settle.
     *
     * Emits Settled when runs were settled.
     */
    function settle(uint256 grantId) external returns (uint256 amount) {
        return _settle(grantId, _dataAccess.settlementTerms(grantId));
    }

    /**
     * @notice Settles grant `grantId`, then makes its unused prepaid runs claimable by the payer.
     *
     * Requirements:
     * - the grant is revoked, or Granted and expired;
     * - it has unused prepaid runs that were not refunded.
     *
     * Emits Settled (when runs were unsettled) and EscrowRefunded.
     */
    function refund(uint256 grantId) external returns (uint256 amount) {
        IDataAccess.SettlementTerms memory terms = _dataAccess.settlementTerms(grantId);
        bool ended = terms.status == IDataAccess.GrantStatus.Revoked
            || (terms.status == IDataAccess.GrantStatus.Granted && block.timestamp >= terms.expiry);
        if (!ended) revert SettlementGrantStillActive(grantId);
        _settle(grantId, terms);
        Escrow storage escrow = _escrows[grantId];
        uint32 runs = terms.paidRuns - terms.runsUsed;
        if (escrow.refunded || runs == 0) revert SettlementNothingToRefund(grantId);
        escrow.refunded = true;
        amount = uint256(terms.feePerUse) * runs;
        _totalEscrowed -= amount;
        address payer = escrow.payer;
        _credit(payer, amount);
        emit EscrowRefunded(grantId, payer, runs, amount);
    }

    // ---------------------------------------------------------------- claims

    /**
     * @notice Pays the caller its whole claimable balance (owner royalties, platform fees, refunds).
     *
     * Requirements:
     * - the caller's claimable balance is not zero.
     *
     * Emits RoyaltyClaimed.
     */
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _claimable[msg.sender];
        if (amount == 0) revert SettlementNothingToClaim(msg.sender);
        _claimable[msg.sender] = 0;
        _totalClaimable -= amount;
        _token.safeTransfer(msg.sender, amount);
        emit RoyaltyClaimed(msg.sender, amount);
    }

    /**
     * @notice Pays donor `donorSbtId` its royalties from `datasetId`.
     *
     * Requirements:
     * - the caller holds `donorSbtId`;
     * - (`donorSbtId`, `consentCommitment`) is a leaf of the dataset's consent tree, shown by `proof`;
     * - something is owed.
     *
     * Emits DonorRoyaltyClaimed.
     */
    function claimDonorRoyalty(
        uint256 datasetId,
        uint256 donorSbtId,
        bytes32 consentCommitment,
        bytes32[] calldata proof
    ) external nonReentrant returns (uint256 amount) {
        (address holder,,) = _identity.identityOf(donorSbtId);
        if (holder != msg.sender) revert SettlementNotDonorHolder(donorSbtId, msg.sender);
        if (!_registry.verifyDonor(datasetId, donorSbtId, consentCommitment, proof)) {
            revert SettlementInvalidDonorProof(datasetId, donorSbtId);
        }
        amount = donorClaimable(datasetId, donorSbtId);
        if (amount == 0) revert SettlementNothingToClaim(msg.sender);
        DonorAccount storage account = _donors[datasetId][donorSbtId];
        account.credit = 0;
        if (!_registry.isConsentWithdrawn(datasetId, donorSbtId)) account.debt = uint128(_donorAccrual[datasetId]);
        _totalDonorPool -= amount;
        _token.safeTransfer(msg.sender, amount);
        emit DonorRoyaltyClaimed(datasetId, donorSbtId, msg.sender, amount);
    }

    /**
     * @inheritdoc IConsentHook
     * @dev A withdrawing donor keeps what accrued so far (moved to its credit) and accrues nothing while withdrawn;
     * a restoring donor accrues again from now on.
     *
     * Requirements:
     * - the caller is the dataset registry.
     */
    function onConsentChanged(uint256 datasetId, uint256 donorSbtId, bool withdrawn) external {
        if (msg.sender != address(_registry)) revert SettlementNotRegistry(msg.sender);
        DonorAccount storage account = _donors[datasetId][donorSbtId];
        uint128 accrual = uint128(_donorAccrual[datasetId]);
        if (withdrawn) account.credit += accrual - account.debt;
        else account.debt = accrual;
    }

    /**
     * @notice Sends the platform's shares of later settlements to `treasury`.
     *
     * Requirements:
     * - the caller is the owner; `treasury` is not the zero address.
     *
     * Emits PlatformTreasurySet.
     */
    function setPlatformTreasury(address treasury) external onlyOwner {
        if (treasury == address(0)) revert SettlementInvalidTreasury();
        _platformTreasury = treasury;
        emit PlatformTreasurySet(treasury);
    }

    // ---------------------------------------------------------------- views

    /// @notice What `account` can claim.
    function claimable(address account) external view returns (uint256) {
        return _claimable[account];
    }

    /// @notice What donor `donorSbtId` can claim from `datasetId`, assuming it is one of its donors.
    function donorClaimable(uint256 datasetId, uint256 donorSbtId) public view returns (uint256) {
        DonorAccount memory account = _donors[datasetId][donorSbtId];
        if (_registry.isConsentWithdrawn(datasetId, donorSbtId)) return account.credit;
        return account.credit + _donorAccrual[datasetId] - account.debt;
    }

    /// @notice Escrow state of grant `grantId`.
    function escrowOf(uint256 grantId) external view returns (Escrow memory) {
        return _escrows[grantId];
    }

    /// @notice Runs of grant `grantId` charged but not yet settled, and their fees.
    function pendingSettlement(uint256 grantId) external view returns (uint32 runs, uint256 amount) {
        IDataAccess.SettlementTerms memory terms = _dataAccess.settlementTerms(grantId);
        runs = terms.runsUsed - _escrows[grantId].settledRuns;
        amount = uint256(terms.feePerUse) * runs;
    }

    /// @notice Cumulative royalty per active donor of `datasetId`.
    function donorAccrual(uint256 datasetId) external view returns (uint256) {
        return _donorAccrual[datasetId];
    }

    /// @notice The three parts of everything held: prepaid escrow, claimable balances, donors' unclaimed shares.
    function totals() external view returns (uint256 escrowed, uint256 claimableTotal, uint256 donorPool) {
        return (_totalEscrowed, _totalClaimable, _totalDonorPool);
    }

    /// @notice The fee token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The access ACL.
    function dataAccess() external view returns (IDataAccess) {
        return _dataAccess;
    }

    /// @notice The dataset registry.
    function registry() external view returns (IDatasetRegistry) {
        return _registry;
    }

    /// @notice The identity SBT.
    function identity() external view returns (IIdentitySBT) {
        return _identity;
    }

    /// @notice Where platform shares go.
    function platformTreasury() external view returns (address) {
        return _platformTreasury;
    }

    // ---------------------------------------------------------------- internals

    function _settle(uint256 grantId, IDataAccess.SettlementTerms memory terms) private returns (uint256 amount) {
        Escrow storage escrow = _escrows[grantId];
        uint32 runs = terms.runsUsed - escrow.settledRuns;
        if (runs == 0 || terms.feePerUse == 0) return 0;
        escrow.settledRuns = terms.runsUsed;
        amount = uint256(terms.feePerUse) * runs;
        _totalEscrowed -= amount;

        uint256 platformAmount = amount * terms.platformBps / CosTypes.BPS;
        uint256 donorsAmount = amount * terms.donorsBps / CosTypes.BPS;
        if (donorsAmount != 0) {
            uint256 activeDonors = _registry.activeDonorCount(terms.datasetId);
            // With no active donor their share goes to the owner; the division's remainder too.
            uint256 perDonor = activeDonors == 0 ? 0 : donorsAmount / activeDonors;
            donorsAmount = perDonor * activeDonors;
            if (donorsAmount != 0) {
                _donorAccrual[terms.datasetId] += perDonor;
                _totalDonorPool += donorsAmount;
            }
        }
        uint256 ownerAmount = amount - platformAmount - donorsAmount;
        address ownerReceiver = _registry.royaltyReceiver(terms.datasetId);
        _credit(ownerReceiver, ownerAmount);
        _credit(_platformTreasury, platformAmount);
        emit Settled(grantId, terms.datasetId, runs, ownerReceiver, ownerAmount, donorsAmount, platformAmount);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _claimable[account] += amount;
        _totalClaimable += amount;
    }
}
