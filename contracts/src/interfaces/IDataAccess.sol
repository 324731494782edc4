// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDataAccess
/// @notice The access ACL as the settlement sees it: fees, splits and run counters of a grant.
interface IDataAccess {
    /// @notice Lifecycle of a grant; an expired grant keeps status Granted and is told apart by its expiry.
    enum GrantStatus {
        None,
        Requested,
        Granted,
        Denied,
        Revoked
    }

    /// @notice What the settlement needs of a grant, read in one call.
    struct SettlementTerms {
        uint256 datasetId;
        uint256 granteeSbtId;
        GrantStatus status;
        uint40 expiry;
        uint32 maxRuns;
        uint32 runsUsed;
        uint32 paidRuns;
        uint88 feePerUse;
        uint16 ownerBps;
        uint16 donorsBps;
        uint16 platformBps;
    }

    /// @notice The fee terms and counters of `grantId`.
    function settlementTerms(uint256 grantId) external view returns (SettlementTerms memory);

    /// @notice Adds `runs` prepaid runs to `grantId`; only the settlement contract.
    function creditPaidRuns(uint256 grantId, uint32 runs) external;
}
