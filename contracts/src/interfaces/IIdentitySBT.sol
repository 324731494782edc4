// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IIdentitySBT
/// @notice The identity SBT as the other COS contracts see it: who holds which sbtId, with which roles and region.
interface IIdentitySBT {
    /// @notice The SBT held by `account` (0 if none) and the role attestations on it.
    function rolesOf(address account) external view returns (uint256 sbtId, uint16 roles);

    /// @notice The holder of `sbtId` (address(0) if it was never issued or was burned) and its region attestation.
    function identityOf(uint256 sbtId)
        external
        view
        returns (address holder, bytes2 regionCode, uint40 regionValidUntil);
}
