// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC5192
/// @notice ERC-5192: minimal soulbound NFTs. Interface id 0xb45a3c0e.
interface IERC5192 {
    /// @notice Emitted when the locking status is changed to locked (and when a token is minted locked).
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status is changed to unlocked.
    event Unlocked(uint256 tokenId);

    /// @notice Whether `tokenId` is locked (non-transferable). Reverts for a token that does not exist.
    function locked(uint256 tokenId) external view returns (bool);
}
