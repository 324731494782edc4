// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC5484
/// @notice ERC-5484: consensual soulbound tokens, with a burn authority fixed at issuance. Interface id 0x0489b56f.
interface IERC5484 {
    /// @notice Who may burn a token, agreed when it is issued.
    enum BurnAuth {
        IssuerOnly,
        OwnerOnly,
        Both,
        Neither
    }

    /// @notice Emitted when a token is issued by `from` to `to`.
    event Issued(address indexed from, address indexed to, uint256 indexed tokenId, BurnAuth burnAuth);

    /// @notice The burn authority of `tokenId`.
    function burnAuth(uint256 tokenId) external view returns (BurnAuth);
}
