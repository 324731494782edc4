// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CosToken} from "../../src/CosToken.sol";
import {DataAccess} from "../../src/DataAccess.sol";
import {DatasetRegistry} from "../../src/DatasetRegistry.sol";
import {IdentitySBT} from "../../src/IdentitySBT.sol";
import {Settlement} from "../../src/Settlement.sol";
import {IERC5484} from "../../src/interfaces/IERC5484.sol";
import {Algorithms} from "../../src/libraries/Algorithms.sol";
import {CosTypes} from "../../src/libraries/CosTypes.sol";
import {Test} from "./Test.sol";

/// @title The whole system deployed and wired, with one actor per role, a registered dataset with two donors.
abstract contract CosFixture is Test {
    uint256 internal constant START = 1_700_000_000;
    uint88 internal constant FEE = 2 ether;
    bytes32 internal constant PURPOSE = keccak256("cos.purpose:DUO:0000006 HMB, cardiometabolic GWAS");
    bytes32 internal constant TERMS = keccak256("cos.terms:v1 key-switch allowed");
    bytes32 internal constant PARAMS = keccak256("job params: phenotype=case, snps=1..131072");
    bytes32 internal constant COMMITMENT_A = keccak256("donor A consent + salt");
    bytes32 internal constant COMMITMENT_B = keccak256("donor B consent + salt");
    uint64 internal constant CONSENT_CODES = 0x6; // GRU | HMB in the bit table of docs/CONTRACTS.md
    bytes2 internal constant CH = "CH";

    IdentitySBT internal identity;
    DatasetRegistry internal registry;
    DataAccess internal access;
    Settlement internal settlement;
    CosToken internal token;

    address internal admin = makeAddr("admin");
    address internal treasury = makeAddr("treasury");
    address internal steward = makeAddr("steward");
    address internal lab = makeAddr("lab");
    address internal donorA = makeAddr("donorA");
    address internal donorB = makeAddr("donorB");
    address internal gateway = makeAddr("gateway");
    address internal orchestrator = makeAddr("orchestrator");
    address internal oracle = makeAddr("oracle");
    address internal stranger = makeAddr("stranger");

    uint256 internal stewardSbt;
    uint256 internal labSbt;
    uint256 internal donorASbt;
    uint256 internal donorBSbt;
    uint256 internal gatewaySbt;
    uint256 internal orchestratorSbt;
    uint256 internal oracleSbt;
    uint256 internal datasetId;

    function setUp() public virtual {
        vm.warp(START);
        vm.startPrank(admin);
        identity = new IdentitySBT(admin);
        registry = new DatasetRegistry(identity, admin);
        access = new DataAccess(identity, registry, admin);
        token = new CosToken(admin, 0);
        settlement = new Settlement(token, access, registry, identity, treasury, admin);
        access.setSettlement(address(settlement));
        registry.setConsentHook(settlement);
        access.registerAlgorithm(Algorithms.GWAS_ALLELIC_CHISQ);
        access.registerAlgorithm(Algorithms.ALLELE_COUNTS);

        stewardSbt = identity.issue(steward, CosTypes.ROLE_STEWARD, IERC5484.BurnAuth.Both);
        labSbt = identity.issue(lab, CosTypes.ROLE_LAB, IERC5484.BurnAuth.Both);
        donorASbt = identity.issue(donorA, CosTypes.ROLE_DONOR, IERC5484.BurnAuth.OwnerOnly);
        donorBSbt = identity.issue(donorB, CosTypes.ROLE_DONOR, IERC5484.BurnAuth.OwnerOnly);
        gatewaySbt = identity.issue(gateway, CosTypes.ROLE_GATEWAY, IERC5484.BurnAuth.Both);
        orchestratorSbt = identity.issue(orchestrator, CosTypes.ROLE_ORCHESTRATOR, IERC5484.BurnAuth.Both);
        oracleSbt = identity.issue(oracle, CosTypes.ROLE_REGION_ORACLE, IERC5484.BurnAuth.Both);
        token.mint(lab, 1_000_000 ether);
        vm.stopPrank();

        datasetId = registerDataset(steward);
    }

    // ---------------------------------------------------------------- datasets and donors

    function datasetInput() internal view returns (DatasetRegistry.DatasetInput memory) {
        return DatasetRegistry.DatasetInput({
            manifestCommitment: keccak256("manifest v1"),
            resourceURI: "cos://gateway/datasets/cohort-1/manifest.json",
            fheParamsHash: keccak256("BFV N=8192 t=20 bits"),
            fheKeyFingerprint: keccak256("steward public key"),
            consentCodes: CONSENT_CODES,
            consentRoot: consentRoot(),
            donorCount: 2,
            royaltyReceiver: address(0),
            royaltyBps: 7000
        });
    }

    function registerDataset(address owner) internal returns (uint256) {
        DatasetRegistry.DatasetInput memory input = datasetInput();
        vm.prank(owner);
        return registry.registerDataset(input);
    }

    function leafA() internal view returns (bytes32) {
        return registry.donorLeaf(donorASbt, COMMITMENT_A);
    }

    function leafB() internal view returns (bytes32) {
        return registry.donorLeaf(donorBSbt, COMMITMENT_B);
    }

    /// @dev Root of the two-leaf consent tree (OpenZeppelin's sorted-pair hashing).
    function consentRoot() internal view returns (bytes32) {
        bytes32 a = leafA();
        bytes32 b = leafB();
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function proofA() internal view returns (bytes32[] memory proof) {
        proof = new bytes32[](1);
        proof[0] = leafB();
    }

    function proofB() internal view returns (bytes32[] memory proof) {
        proof = new bytes32[](1);
        proof[0] = leafA();
    }

    // ---------------------------------------------------------------- requests, grants, escrow

    function defaultTerms() internal view returns (DataAccess.GrantTerms memory) {
        return DataAccess.GrantTerms({
            opMask: CosTypes.OP_ALL,
            notBefore: uint40(block.timestamp),
            expiry: uint40(block.timestamp + 30 days),
            maxRuns: 10,
            rateWindow: 0,
            rateMaxRuns: 0,
            regionCode: bytes2(0),
            epsilonCap: 3_000_000,
            deltaCap: 1e12,
            termsHash: TERMS,
            keySwitchAllowed: true,
            feePerUse: FEE,
            ownerBps: 6000,
            donorsBps: 3000,
            platformBps: 1000
        });
    }

    function requestAccess() internal returns (uint256 grantId) {
        vm.prank(lab);
        grantId = access.request(datasetId, CosTypes.OP_ALL, PURPOSE, CONSENT_CODES);
    }

    function grantWith(DataAccess.GrantTerms memory terms) internal returns (uint256 grantId) {
        grantId = requestAccess();
        vm.prank(steward);
        access.grant(grantId, terms);
    }

    function fund(uint256 grantId, uint32 runs) internal {
        vm.startPrank(lab);
        token.approve(address(settlement), uint256(FEE) * runs);
        settlement.fundGrant(grantId, runs);
        vm.stopPrank();
    }

    /// @dev A granted, fully funded grant with the default terms.
    function fundedGrant() internal returns (uint256 grantId) {
        grantId = grantWith(defaultTerms());
        fund(grantId, 10);
    }

    function recordUse(uint256 grantId, uint8 op) internal {
        bytes32 ticketCommitment = keccak256(abi.encode("ticket", grantId, block.timestamp));
        vm.prank(gateway);
        access.recordUse(grantId, op, ticketCommitment, keccak256("object"));
    }

    function issuePermit(uint256 grantId, uint48 epsilon, uint64 delta) internal returns (uint256 permitId) {
        vm.prank(lab);
        permitId = access.issueJobPermit(grantId, Algorithms.GWAS_ALLELIC_CHISQ, PURPOSE, epsilon, delta, PARAMS);
    }

    // ---------------------------------------------------------------- region attestations

    function signRegion(uint256 sbtId, bytes2 regionCode, uint40 validUntil, uint40 attestedAt, string memory signer)
        internal
        view
        returns (IdentitySBT.RegionAttestation memory attestation, bytes memory signature)
    {
        attestation = IdentitySBT.RegionAttestation({
            sbtId: sbtId, regionCode: regionCode, validUntil: validUntil, attestedAt: attestedAt
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keyOf(signer), identity.regionAttestationDigest(attestation));
        signature = abi.encodePacked(r, s, v);
    }

    function attestRegion(uint256 sbtId, bytes2 regionCode) internal {
        (IdentitySBT.RegionAttestation memory attestation, bytes memory signature) =
            signRegion(sbtId, regionCode, uint40(block.timestamp + 365 days), uint40(block.timestamp), "oracle");
        identity.attestRegion(attestation, signature);
    }
}
