// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IConsentHook
/// @notice Told by the dataset registry when a donor withdraws or restores consent (the settlement keeps royalties
/// fair).
interface IConsentHook {
    /// @notice Called after donor `donorSbtId`'s consent for `datasetId` changed to `withdrawn`.
    function onConsentChanged(uint256 datasetId, uint256 donorSbtId, bool withdrawn) external;
}
