// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title UsageLog
 * @notice The append-only usage log: the gateway records every ticketed serve (READ, LIST, EXPORT) as a Used event
 * carrying a commitment to the ticket, the digest of the object served and the op. Nothing is ever edited or
 * removed. Each use consumes one run of its grant, so the runIndex of Used events and JobPermitIssued events of a
 * grant together number 1..runsUsed without gaps: an auditor can tell that no use is missing.
 *
 * @dev Part of the DataAccess contract rather than a contract of its own so that recording a use checks and
 * charges the grant in the same call (one cold account, well under the 50k gas target).
 */
abstract contract UsageLog {
    /// @notice One use to record.
    struct UseRecord {
        uint256 grantId;
        uint8 op;
        bytes32 ticketCommitment;
        bytes32 objectDigest;
    }

    /// @notice Grant `grantId` was used for `op` (run number `runIndex`), recorded by gateway `gatewaySbtId`.
    event Used(
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint256 indexed granteeSbtId,
        uint8 op,
        uint32 runIndex,
        bytes32 ticketCommitment,
        bytes32 objectDigest,
        uint256 gatewaySbtId
    );

    error UsageLogInvalidTicket();
    error UsageLogEmptyBatch();

    /**
     * @notice Records one ticketed use of `grantId`.
     *
     * Requirements:
     * - the caller holds an identity token attested as gateway;
     * - `ticketCommitment` is not zero;
     * - `op` is READ, LIST or EXPORT and the grant allows it now (status, notBefore, expiry, runs, rate, escrow,
     *   holder, region): the same rules as canAccess, with the reason as a custom error.
     *
     * Emits Used.
     */
    function recordUse(uint256 grantId, uint8 op, bytes32 ticketCommitment, bytes32 objectDigest) external {
        uint256 gatewaySbtId = _requireGateway();
        _recordUse(gatewaySbtId, grantId, op, ticketCommitment, objectDigest);
    }

    /**
     * @notice Records several uses at once, all or nothing.
     *
     * Requirements:
     * - `uses` is not empty; the rules of recordUse for each.
     *
     * Emits Used for each.
     */
    function recordUses(UseRecord[] calldata uses) external {
        if (uses.length == 0) revert UsageLogEmptyBatch();
        uint256 gatewaySbtId = _requireGateway();
        for (uint256 i = 0; i < uses.length; ++i) {
            UseRecord calldata use = uses[i];
            _recordUse(gatewaySbtId, use.grantId, use.op, use.ticketCommitment, use.objectDigest);
        }
    }

    function _recordUse(uint256 gatewaySbtId, uint256 grantId, uint8 op, bytes32 ticketCommitment, bytes32 objectDigest)
        private
    {
        if (ticketCommitment == bytes32(0)) revert UsageLogInvalidTicket();
        (uint256 datasetId, uint256 granteeSbtId, uint32 runIndex) = _chargeUse(grantId, op);
        emit Used(grantId, datasetId, granteeSbtId, op, runIndex, ticketCommitment, objectDigest, gatewaySbtId);
    }

    /// @dev Reverts unless the caller is an attested gateway; returns its sbtId.
    function _requireGateway() internal view virtual returns (uint256 gatewaySbtId);

    /// @dev Checks `op` against the grant and consumes one run; reverts with the reason when it may not be used.
    function _chargeUse(uint256 grantId, uint8 op)
        internal
        virtual
        returns (uint256 datasetId, uint256 granteeSbtId, uint32 runIndex);
}
