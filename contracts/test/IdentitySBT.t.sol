// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IdentitySBT} from "../src/IdentitySBT.sol";
import {IERC5192} from "../src/interfaces/IERC5192.sol";
import {IERC5484} from "../src/interfaces/IERC5484.sol";
import {CosTypes} from "../src/libraries/CosTypes.sol";
import {CosFixture} from "./utils/CosFixture.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

contract IdentitySBTTest is CosFixture {
    event Locked(uint256 tokenId);
    event Issued(address indexed from, address indexed to, uint256 indexed tokenId, IERC5484.BurnAuth burnAuth);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event RolesAttested(uint256 indexed sbtId, uint16 roles);
    event RolesRevoked(uint256 indexed sbtId, uint16 roles);
    event RegionAttested(
        uint256 indexed sbtId, bytes2 regionCode, uint40 validUntil, uint40 attestedAt, address indexed oracle
    );
    event RegionRevoked(uint256 indexed sbtId, address indexed oracle);
    event FheKeyPublished(uint256 indexed sbtId, bytes32 fingerprint);

    // ---------------------------------------------------------------- issuance

    function test_issue_mintsALockedTokenWithRoles() public {
        uint256 expectedId = identity.totalIssued() + 1;
        vm.expectEmit(true, true, true, true, address(identity));
        emit Transfer(address(0), stranger, expectedId);
        vm.expectEmit(true, true, true, true, address(identity));
        emit Locked(expectedId);
        vm.expectEmit(true, true, true, true, address(identity));
        emit Issued(admin, stranger, expectedId, IERC5484.BurnAuth.Both);
        vm.expectEmit(true, true, true, true, address(identity));
        emit RolesAttested(expectedId, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR);
        vm.prank(admin);
        uint256 sbtId = identity.issue(stranger, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR, IERC5484.BurnAuth.Both);

        assertEq(sbtId, expectedId, "sequential id");
        assertEq(identity.ownerOf(sbtId), stranger, "owner");
        assertEq(identity.balanceOf(stranger), 1, "balance");
        assertEq(identity.sbtOf(stranger), sbtId, "sbtOf");
        assertEq(identity.holderOf(sbtId), stranger, "holderOf");
        assertTrue(identity.locked(sbtId), "locked");
        assertEq(uint256(identity.burnAuth(sbtId)), uint256(IERC5484.BurnAuth.Both), "burnAuth");
        IdentitySBT.SbtInfo memory info = identity.sbtInfo(sbtId);
        assertEq(info.holder, stranger, "info.holder");
        assertEq(info.roles, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR, "info.roles");
        assertEq(info.issuedAt, START, "info.issuedAt");
        assertEq(uint256(info.burnAuth), uint256(IERC5484.BurnAuth.Both), "info.burnAuth");
        assertEq(info.regionCode, bytes2(0), "no region yet");
        (uint256 rolesSbt, uint16 roles) = identity.rolesOf(stranger);
        assertEq(rolesSbt, sbtId, "rolesOf id");
        assertEq(roles, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR, "rolesOf roles");
        assertTrue(identity.hasRoles(stranger, CosTypes.ROLE_LAB), "has lab");
        assertFalse(identity.hasRoles(stranger, CosTypes.ROLE_STEWARD), "not steward");
    }

    function test_issue_revertsForAnyoneButTheIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTNotIssuer.selector, stranger));
        vm.prank(stranger);
        identity.issue(stranger, 0, IERC5484.BurnAuth.Both);
    }

    function test_issue_allowsOneTokenPerAccount() public {
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTAlreadyHolder.selector, lab));
        vm.prank(admin);
        identity.issue(lab, 0, IERC5484.BurnAuth.Both);
    }

    function test_issue_rejectsTheZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidHolder.selector, address(0)));
        vm.prank(admin);
        identity.issue(address(0), 0, IERC5484.BurnAuth.Both);
    }

    function test_issue_requiresABurnAuthorityThatLetsTheHolderBurn() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidBurnAuth.selector, IERC5484.BurnAuth.IssuerOnly)
        );
        identity.issue(stranger, 0, IERC5484.BurnAuth.IssuerOnly);
        vm.expectRevert(
            abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidBurnAuth.selector, IERC5484.BurnAuth.Neither)
        );
        identity.issue(stranger, 0, IERC5484.BurnAuth.Neither);
        vm.stopPrank();
    }

    function testFuzz_issue_acceptsExactlyTheKnownRoleBits(uint16 roles) public {
        vm.prank(admin);
        if (roles & ~CosTypes.ROLE_ALL != 0) {
            vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidRoles.selector, roles));
            identity.issue(stranger, roles, IERC5484.BurnAuth.OwnerOnly);
        } else {
            uint256 sbtId = identity.issue(stranger, roles, IERC5484.BurnAuth.OwnerOnly);
            (, uint16 stored) = identity.rolesOf(stranger);
            assertEq(stored, roles, "roles stored");
            assertEq(identity.holderOf(sbtId), stranger, "issued");
        }
    }

    function test_setIssuer_movesIssuanceToTheNewIssuer() public {
        vm.prank(admin);
        identity.setIssuer(steward);
        assertEq(identity.issuer(), steward, "issuer");
        vm.prank(steward);
        identity.issue(stranger, 0, IERC5484.BurnAuth.Both);
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTNotIssuer.selector, admin));
        vm.prank(admin);
        identity.attestRoles(labSbt, CosTypes.ROLE_DONOR);
    }

    function test_setIssuer_isOwnerOnlyAndRejectsZero() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        identity.setIssuer(stranger);
        vm.expectRevert(IdentitySBT.IdentitySBTInvalidIssuer.selector);
        vm.prank(admin);
        identity.setIssuer(address(0));
    }

    // ---------------------------------------------------------------- non-transferability

    function test_transfersAndApprovals_alwaysRevert() public {
        vm.startPrank(lab);
        vm.expectRevert(IdentitySBT.IdentitySBTNonTransferable.selector);
        identity.transferFrom(lab, stranger, labSbt);
        vm.expectRevert(IdentitySBT.IdentitySBTNonTransferable.selector);
        identity.safeTransferFrom(lab, stranger, labSbt);
        vm.expectRevert(IdentitySBT.IdentitySBTNonTransferable.selector);
        identity.safeTransferFrom(lab, stranger, labSbt, "");
        vm.expectRevert(IdentitySBT.IdentitySBTNonTransferable.selector);
        identity.approve(stranger, labSbt);
        vm.expectRevert(IdentitySBT.IdentitySBTNonTransferable.selector);
        identity.setApprovalForAll(stranger, true);
        vm.stopPrank();
        assertEq(identity.ownerOf(labSbt), lab, "still the lab's");
        assertEq(identity.getApproved(labSbt), address(0), "no approval");
        assertFalse(identity.isApprovedForAll(lab, stranger), "no operator");
    }

    function test_views_revertForUnknownTokens() public {
        uint256 unknown = 999;
        bytes memory unknownError = abi.encodeWithSelector(IdentitySBT.IdentitySBTUnknownToken.selector, unknown);
        vm.expectRevert(unknownError);
        identity.ownerOf(unknown);
        vm.expectRevert(unknownError);
        identity.locked(unknown);
        vm.expectRevert(unknownError);
        identity.burnAuth(unknown);
        vm.expectRevert(unknownError);
        identity.sbtInfo(unknown);
        vm.expectRevert(unknownError);
        identity.tokenURI(unknown);
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidHolder.selector, address(0)));
        identity.balanceOf(address(0));
        assertEq(identity.balanceOf(stranger), 0, "no token");
    }

    function test_supportsInterface_declaresERC721And5192And5484() public view {
        assertTrue(identity.supportsInterface(0x80ac58cd), "ERC-721");
        assertTrue(identity.supportsInterface(0x5b5e139f), "ERC-721 metadata");
        assertTrue(identity.supportsInterface(0xb45a3c0e), "ERC-5192");
        assertTrue(identity.supportsInterface(0x0489b56f), "ERC-5484");
        assertTrue(identity.supportsInterface(0x01ffc9a7), "ERC-165");
        assertFalse(identity.supportsInterface(0xffffffff), "not 0xffffffff");
        assertEq(bytes32(type(IERC5192).interfaceId), bytes32(bytes4(0xb45a3c0e)), "5192 id");
        assertEq(bytes32(type(IERC5484).interfaceId), bytes32(bytes4(0x0489b56f)), "5484 id");
        assertEq(identity.name(), "COS Identity", "name");
        assertEq(identity.symbol(), "COSID", "symbol");
    }

    // ---------------------------------------------------------------- burning

    function test_burn_byTheHolderFreesTheAccountForANewId() public {
        vm.expectEmit(true, true, true, true, address(identity));
        emit Transfer(lab, address(0), labSbt);
        vm.prank(lab);
        identity.burn(labSbt);
        assertEq(identity.holderOf(labSbt), address(0), "gone");
        assertEq(identity.balanceOf(lab), 0, "no balance");
        (uint256 sbtId,) = identity.rolesOf(lab);
        assertEq(sbtId, 0, "no sbt");

        vm.prank(admin);
        uint256 again = identity.issue(lab, CosTypes.ROLE_LAB, IERC5484.BurnAuth.Both);
        assertTrue(again != labSbt, "ids are never reused");
        assertEq(identity.holderOf(labSbt), address(0), "old id stays burned");
    }

    function test_burn_byTheIssuerOnlyWhenItsAuthorityAllows() public {
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTBurnNotAuthorized.selector, donorASbt, admin));
        vm.prank(admin);
        identity.burn(donorASbt); // OwnerOnly
        vm.prank(admin);
        identity.burn(labSbt); // Both
        assertEq(identity.holderOf(labSbt), address(0), "burned by issuer");
    }

    function test_burn_revertsForStrangers() public {
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTBurnNotAuthorized.selector, labSbt, stranger));
        vm.prank(stranger);
        identity.burn(labSbt);
    }

    // ---------------------------------------------------------------- self-registration and roles

    function test_register_isClosedByDefault() public {
        vm.expectRevert(IdentitySBT.IdentitySBTSelfRegistrationClosed.selector);
        vm.prank(stranger);
        identity.register(0);
    }

    function test_register_issuesWithSelfAttestableRolesOnly() public {
        vm.prank(admin);
        identity.setSelfRegistration(true, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR);
        vm.expectRevert(
            abi.encodeWithSelector(IdentitySBT.IdentitySBTRolesNotSelfAttestable.selector, CosTypes.ROLE_GATEWAY)
        );
        vm.prank(stranger);
        identity.register(CosTypes.ROLE_GATEWAY);

        vm.prank(stranger);
        uint256 sbtId = identity.register(CosTypes.ROLE_LAB);
        assertEq(uint256(identity.burnAuth(sbtId)), uint256(IERC5484.BurnAuth.OwnerOnly), "holder may burn");
        vm.prank(stranger);
        identity.attestOwnRoles(CosTypes.ROLE_DONOR);
        assertTrue(identity.hasRoles(stranger, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR), "both roles");
        vm.prank(stranger);
        identity.renounceRoles(CosTypes.ROLE_LAB);
        assertFalse(identity.hasRoles(stranger, CosTypes.ROLE_LAB), "renounced");
    }

    function test_attestAndRevokeRoles_byTheIssuer() public {
        vm.expectEmit(true, true, true, true, address(identity));
        emit RolesAttested(labSbt, CosTypes.ROLE_DONOR);
        vm.prank(admin);
        identity.attestRoles(labSbt, CosTypes.ROLE_DONOR);
        assertTrue(identity.hasRoles(lab, CosTypes.ROLE_LAB | CosTypes.ROLE_DONOR), "attested");
        vm.expectEmit(true, true, true, true, address(identity));
        emit RolesRevoked(labSbt, CosTypes.ROLE_LAB);
        vm.prank(admin);
        identity.revokeRoles(labSbt, CosTypes.ROLE_LAB);
        (, uint16 roles) = identity.rolesOf(lab);
        assertEq(roles, CosTypes.ROLE_DONOR, "lab role revoked");
    }

    function test_attestRoles_rejectsEmptyOrUnknownRolesAndUnknownTokens() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidRoles.selector, uint16(0)));
        identity.attestRoles(labSbt, 0);
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidRoles.selector, uint16(64)));
        identity.attestRoles(labSbt, 64);
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTUnknownToken.selector, uint256(999)));
        identity.attestRoles(999, CosTypes.ROLE_LAB);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTNotHolder.selector, stranger));
        vm.prank(stranger);
        identity.renounceRoles(CosTypes.ROLE_LAB);
    }

    // ---------------------------------------------------------------- regions and FHE keys

    function test_attestRegion_recordsASignedAttestation() public {
        (IdentitySBT.RegionAttestation memory attestation, bytes memory signature) =
            signRegion(labSbt, CH, uint40(START + 30 days), uint40(START), "oracle");
        vm.expectEmit(true, true, true, true, address(identity));
        emit RegionAttested(labSbt, CH, uint40(START + 30 days), uint40(START), oracle);
        vm.prank(stranger); // anyone may relay it
        identity.attestRegion(attestation, signature);
        (address holder, bytes2 region, uint40 validUntil) = identity.identityOf(labSbt);
        assertEq(holder, lab, "holder");
        assertEq(region, CH, "region");
        assertEq(validUntil, START + 30 days, "validUntil");
        assertTrue(identity.isInRegion(labSbt, CH), "in CH");
        assertFalse(identity.isInRegion(labSbt, "DE"), "not in DE");
        vm.warp(START + 30 days);
        assertFalse(identity.isInRegion(labSbt, CH), "attestation lapsed");
    }

    function test_attestRegion_rejectsSignersWithoutTheOracleRole() public {
        (IdentitySBT.RegionAttestation memory attestation, bytes memory signature) =
            signRegion(labSbt, CH, uint40(START + 1 days), uint40(START), "stranger");
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTNotRegionOracle.selector, stranger));
        identity.attestRegion(attestation, signature);
    }

    function test_attestRegion_rejectsReplayedAndFutureAttestations() public {
        attestRegion(labSbt, CH);
        (IdentitySBT.RegionAttestation memory replay, bytes memory replaySignature) =
            signRegion(labSbt, "DE", uint40(START + 1 days), uint40(START), "oracle");
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTStaleAttestation.selector, labSbt, uint40(START)));
        identity.attestRegion(replay, replaySignature);
        (IdentitySBT.RegionAttestation memory future, bytes memory futureSignature) =
            signRegion(labSbt, "DE", uint40(START + 2 days), uint40(START + 1), "oracle");
        vm.expectRevert(
            abi.encodeWithSelector(IdentitySBT.IdentitySBTStaleAttestation.selector, labSbt, uint40(START + 1))
        );
        identity.attestRegion(future, futureSignature);
    }

    function test_attestRegion_rejectsExpiredInvalidAndUnknown() public {
        (IdentitySBT.RegionAttestation memory expired, bytes memory expiredSignature) =
            signRegion(labSbt, CH, uint40(START), uint40(START), "oracle");
        vm.expectRevert(
            abi.encodeWithSelector(IdentitySBT.IdentitySBTAttestationExpired.selector, labSbt, uint40(START))
        );
        identity.attestRegion(expired, expiredSignature);
        (IdentitySBT.RegionAttestation memory lower, bytes memory lowerSignature) =
            signRegion(labSbt, "ch", uint40(START + 1), uint40(START), "oracle");
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTInvalidRegion.selector, bytes2("ch")));
        identity.attestRegion(lower, lowerSignature);
        (IdentitySBT.RegionAttestation memory unknown, bytes memory unknownSignature) =
            signRegion(999, CH, uint40(START + 1), uint40(START), "oracle");
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTUnknownToken.selector, uint256(999)));
        identity.attestRegion(unknown, unknownSignature);
    }

    function test_revokeRegion_byAnOracleClearsTheRegion() public {
        attestRegion(labSbt, CH);
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTNotRegionOracle.selector, stranger));
        vm.prank(stranger);
        identity.revokeRegion(labSbt);
        vm.expectEmit(true, true, true, true, address(identity));
        emit RegionRevoked(labSbt, oracle);
        vm.prank(oracle);
        identity.revokeRegion(labSbt);
        assertFalse(identity.isInRegion(labSbt, CH), "revoked");
    }

    function testFuzz_isRegionCode_isTwoUpperCaseLetters(bytes2 code) public view {
        bool expected = uint8(code[0]) >= 65 && uint8(code[0]) <= 90 && uint8(code[1]) >= 65 && uint8(code[1]) <= 90;
        assertEq(identity.isRegionCode(code), expected, "region code rule");
    }

    function test_publishFheKey_storesTheFingerprintOnTheToken() public {
        bytes32 fingerprint = keccak256("lab public key");
        vm.expectEmit(true, true, true, true, address(identity));
        emit FheKeyPublished(labSbt, fingerprint);
        vm.prank(lab);
        identity.publishFheKey(fingerprint);
        assertEq(identity.fheKeyFingerprintOf(labSbt), fingerprint, "fingerprint");
        assertEq(identity.sbtInfo(labSbt).fheKeyFingerprint, fingerprint, "in sbtInfo");
        vm.expectRevert(abi.encodeWithSelector(IdentitySBT.IdentitySBTNotHolder.selector, stranger));
        vm.prank(stranger);
        identity.publishFheKey(fingerprint);
    }

    function test_interfaceSelectorsMatchTheStandard() public pure {
        assertEq(bytes32(type(IERC721).interfaceId), bytes32(bytes4(0x80ac58cd)), "721 id");
    }
}
