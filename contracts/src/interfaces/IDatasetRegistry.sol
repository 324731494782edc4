// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDatasetRegistry
/// @notice The dataset registry as DataAccess and Settlement see it.
interface IDatasetRegistry {
    /// @notice The current owner of `datasetId`, or address(0) if it does not exist.
    function datasetOwner(uint256 datasetId) external view returns (address);

    /// @notice Where the owner's share of fees for `datasetId` goes (its ERC-2981 receiver, else the owner).
    function royaltyReceiver(uint256 datasetId) external view returns (address);

    /// @notice Donors of `datasetId` whose consent is not withdrawn.
    function activeDonorCount(uint256 datasetId) external view returns (uint256);

    /// @notice Whether donor `donorSbtId` withdrew consent for `datasetId`.
    function isConsentWithdrawn(uint256 datasetId, uint256 donorSbtId) external view returns (bool);

    /// @notice Whether (`donorSbtId`, `consentCommitment`) is a leaf of the dataset's consent tree.
    function verifyDonor(uint256 datasetId, uint256 donorSbtId, bytes32 consentCommitment, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
