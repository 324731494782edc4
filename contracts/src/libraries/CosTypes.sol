// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title CosTypes
 * @notice Constants shared by every COS contract and, through the generated `shared/contracts/constants.ts`,
 * by TypeScript. One name per concept: the same bit means the same thing on chain, in the app and in the UI.
 */
library CosTypes {
    /// opMask bit: read (download) encrypted objects of the dataset through a gateway ticket.
    uint8 internal constant OP_READ = 1;
    /// opMask bit: list the dataset's objects and manifest through a gateway ticket.
    uint8 internal constant OP_LIST = 2;
    /// opMask bit: export (bulk copy) encrypted objects through a gateway ticket.
    uint8 internal constant OP_EXPORT = 4;
    /// opMask bit: run registered algorithms on the ciphertexts under job permits.
    uint8 internal constant OP_COMPUTE = 8;
    /// Every opMask bit.
    uint8 internal constant OP_ALL = 15;

    /// Role attestation: registers datasets and grants access to them.
    uint16 internal constant ROLE_STEWARD = 1;
    /// Role attestation: contributes records to datasets, manages consent, claims royalties.
    uint16 internal constant ROLE_DONOR = 2;
    /// Role attestation: requests access and job permits.
    uint16 internal constant ROLE_LAB = 4;
    /// Role attestation: serves encrypted objects against tickets and records each use.
    uint16 internal constant ROLE_GATEWAY = 8;
    /// Role attestation: runs FHE jobs under permits and posts their results.
    uint16 internal constant ROLE_ORCHESTRATOR = 16;
    /// Role attestation: signs region attestations.
    uint16 internal constant ROLE_REGION_ORACLE = 32;
    /// Every role attestation bit.
    uint16 internal constant ROLE_ALL = 63;

    /// Fixed-point scale of epsilon: 1 epsilon = 1,000,000 micro-units.
    uint256 internal constant EPSILON_SCALE = 1_000_000;
    /// Fixed-point scale of delta: 1 = 10^18 atto-units (as wei to ether), so delta 1e-9 is 10^9.
    uint256 internal constant DELTA_SCALE = 1_000_000_000_000_000_000;

    /// Basis points of a whole fee: royalty splits add up to this.
    uint16 internal constant BPS = 10_000;

    /// Longest resource or result URI, in bytes (a pointer, never the data itself).
    uint16 internal constant MAX_URI_LENGTH = 512;
}
