// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DatasetRegistry} from "../src/DatasetRegistry.sol";
import {IConsentHook} from "../src/interfaces/IConsentHook.sol";
import {IERC5484} from "../src/interfaces/IERC5484.sol";
import {CosTypes} from "../src/libraries/CosTypes.sol";
import {CosFixture} from "./utils/CosFixture.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract DatasetRegistryTest is CosFixture {
    event DatasetRegistered(
        uint256 indexed datasetId,
        address indexed owner,
        bytes32 manifestCommitment,
        bytes32 fheParamsHash,
        bytes32 fheKeyFingerprint,
        uint64 consentCodes,
        bytes32 consentRoot,
        uint32 donorCount,
        string resourceURI
    );
    event DatasetUpdated(
        uint256 indexed datasetId,
        uint32 version,
        bytes32 manifestCommitment,
        bytes32 fheParamsHash,
        bytes32 fheKeyFingerprint,
        string resourceURI
    );
    event ConsentWithdrawn(uint256 indexed datasetId, uint256 indexed donorSbtId);
    event ConsentRestored(uint256 indexed datasetId, uint256 indexed donorSbtId);

    function test_registerDataset_recordsCommitmentsAndMintsToTheSteward() public {
        DatasetRegistry.DatasetInput memory input = datasetInput();
        vm.expectEmit(true, true, true, true, address(registry));
        emit DatasetRegistered(
            2,
            steward,
            input.manifestCommitment,
            input.fheParamsHash,
            input.fheKeyFingerprint,
            input.consentCodes,
            input.consentRoot,
            input.donorCount,
            input.resourceURI
        );
        vm.prank(steward);
        uint256 id = registry.registerDataset(input);

        assertEq(id, 2, "second dataset");
        assertEq(registry.datasetCount(), 2, "count");
        assertEq(registry.ownerOf(id), steward, "owner");
        DatasetRegistry.Dataset memory record = registry.dataset(id);
        assertEq(record.owner, steward, "record.owner");
        assertEq(record.manifestCommitment, input.manifestCommitment, "manifest");
        assertEq(record.resourceURI, input.resourceURI, "uri");
        assertEq(record.fheParamsHash, input.fheParamsHash, "params");
        assertEq(record.fheKeyFingerprint, input.fheKeyFingerprint, "key");
        assertEq(record.consentCodes, CONSENT_CODES, "codes");
        assertEq(record.consentRoot, consentRoot(), "root");
        assertEq(record.donorCount, 2, "donors");
        assertEq(record.withdrawnCount, 0, "withdrawn");
        assertEq(record.version, 1, "version");
        assertEq(record.registeredAt, START, "registeredAt");
        assertEq(registry.tokenURI(id), input.resourceURI, "tokenURI");
        (address receiver, uint256 royalty) = registry.royaltyInfo(id, 1 ether);
        assertEq(receiver, steward, "royalty receiver defaults to the steward");
        assertEq(royalty, 0.7 ether, "royalty fraction");
        assertEq(registry.royaltyReceiver(id), steward, "royaltyReceiver");
        assertEq(registry.datasetOwner(id), steward, "datasetOwner");
        assertEq(registry.datasetOwner(99), address(0), "no owner for unknown");
    }

    function test_registerDataset_requiresAStewardAttestation() public {
        DatasetRegistry.DatasetInput memory input = datasetInput();
        vm.expectRevert(abi.encodeWithSelector(DatasetRegistry.DatasetRegistryNotSteward.selector, lab));
        vm.prank(lab);
        registry.registerDataset(input);
    }

    function test_registerDataset_rejectsMissingCommitmentsAndPointers() public {
        DatasetRegistry.DatasetInput memory input = datasetInput();
        input.manifestCommitment = bytes32(0);
        vm.expectRevert(DatasetRegistry.DatasetRegistryInvalidCommitment.selector);
        vm.prank(steward);
        registry.registerDataset(input);

        input = datasetInput();
        input.resourceURI = "";
        vm.expectRevert(DatasetRegistry.DatasetRegistryInvalidURI.selector);
        vm.prank(steward);
        registry.registerDataset(input);

        input = datasetInput();
        input.consentRoot = bytes32(0);
        vm.expectRevert(DatasetRegistry.DatasetRegistryInvalidConsentRoot.selector);
        vm.prank(steward);
        registry.registerDataset(input);
    }

    function testFuzz_registerDataset_boundsTheResourceURI(uint256 length) public {
        length = bound(length, 0, 2 * CosTypes.MAX_URI_LENGTH);
        DatasetRegistry.DatasetInput memory input = datasetInput();
        input.resourceURI = string(new bytes(length));
        if (length == 0 || length > CosTypes.MAX_URI_LENGTH) {
            vm.expectRevert(DatasetRegistry.DatasetRegistryInvalidURI.selector);
        }
        vm.prank(steward);
        registry.registerDataset(input);
    }

    function test_updateDataset_bumpsTheVersionForTheOwnerOnly() public {
        DatasetRegistry.DatasetUpdate memory update = DatasetRegistry.DatasetUpdate({
            manifestCommitment: keccak256("manifest v2"),
            resourceURI: "cos://gateway/datasets/cohort-1/v2/manifest.json",
            fheParamsHash: keccak256("CKKS N=16384"),
            fheKeyFingerprint: keccak256("steward key 2")
        });
        vm.expectRevert(abi.encodeWithSelector(DatasetRegistry.DatasetRegistryNotDatasetOwner.selector, datasetId, lab));
        vm.prank(lab);
        registry.updateDataset(datasetId, update);

        vm.warp(START + 1 days);
        vm.expectEmit(true, true, true, true, address(registry));
        emit DatasetUpdated(
            datasetId, 2, update.manifestCommitment, update.fheParamsHash, update.fheKeyFingerprint, update.resourceURI
        );
        vm.prank(steward);
        registry.updateDataset(datasetId, update);
        DatasetRegistry.Dataset memory record = registry.dataset(datasetId);
        assertEq(record.version, 2, "version");
        assertEq(record.manifestCommitment, update.manifestCommitment, "manifest");
        assertEq(record.updatedAt, START + 1 days, "updatedAt");
        assertEq(record.consentRoot, consentRoot(), "donor set unchanged");
    }

    function test_transfer_onlyToAnotherSteward() public {
        vm.expectRevert(abi.encodeWithSelector(DatasetRegistry.DatasetRegistryNotSteward.selector, lab));
        vm.prank(steward);
        registry.transferFrom(steward, lab, datasetId);

        vm.prank(admin);
        identity.issue(stranger, CosTypes.ROLE_STEWARD, IERC5484.BurnAuth.Both);
        vm.prank(steward);
        registry.transferFrom(steward, stranger, datasetId);
        assertEq(registry.ownerOf(datasetId), stranger, "moved to a steward");
    }

    function test_setDatasetRoyalty_redirectsTheOwnersShare() public {
        vm.prank(steward);
        registry.setDatasetRoyalty(datasetId, treasury, 5000);
        (address receiver, uint256 amount) = registry.royaltyInfo(datasetId, 100);
        assertEq(receiver, treasury, "receiver");
        assertEq(amount, 50, "fraction");
        assertEq(registry.royaltyReceiver(datasetId), treasury, "royaltyReceiver");
        vm.expectRevert(
            abi.encodeWithSelector(DatasetRegistry.DatasetRegistryNotDatasetOwner.selector, datasetId, stranger)
        );
        vm.prank(stranger);
        registry.setDatasetRoyalty(datasetId, stranger, 1);
    }

    // ---------------------------------------------------------------- consent

    function test_withdrawAndRestoreConsent_byTheDonorWithAProof() public {
        assertTrue(registry.verifyDonor(datasetId, donorASbt, COMMITMENT_A, proofA()), "donor A is a leaf");
        assertFalse(registry.verifyDonor(datasetId, donorASbt, COMMITMENT_B, proofA()), "wrong commitment");

        bytes32[] memory proof = proofA();
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsentWithdrawn(datasetId, donorASbt);
        vm.prank(donorA);
        registry.withdrawConsent(datasetId, donorASbt, COMMITMENT_A, proof);
        assertTrue(registry.isConsentWithdrawn(datasetId, donorASbt), "withdrawn");
        assertEq(registry.activeDonorCount(datasetId), 1, "one active");
        assertEq(registry.dataset(datasetId).withdrawnCount, 1, "count");

        vm.expectRevert(
            abi.encodeWithSelector(
                DatasetRegistry.DatasetRegistryConsentAlreadyWithdrawn.selector, datasetId, donorASbt
            )
        );
        vm.prank(donorA);
        registry.withdrawConsent(datasetId, donorASbt, COMMITMENT_A, proof);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsentRestored(datasetId, donorASbt);
        vm.prank(donorA);
        registry.restoreConsent(datasetId, donorASbt, COMMITMENT_A, proof);
        assertFalse(registry.isConsentWithdrawn(datasetId, donorASbt), "restored");
        assertEq(registry.activeDonorCount(datasetId), 2, "two active");

        vm.expectRevert(
            abi.encodeWithSelector(DatasetRegistry.DatasetRegistryConsentNotWithdrawn.selector, datasetId, donorASbt)
        );
        vm.prank(donorA);
        registry.restoreConsent(datasetId, donorASbt, COMMITMENT_A, proof);
    }

    function test_withdrawConsent_rejectsOthersAndBadProofs() public {
        bytes32[] memory proof = proofA();
        vm.expectRevert(
            abi.encodeWithSelector(DatasetRegistry.DatasetRegistryNotDonorHolder.selector, donorASbt, donorB)
        );
        vm.prank(donorB);
        registry.withdrawConsent(datasetId, donorASbt, COMMITMENT_A, proof);

        vm.expectRevert(
            abi.encodeWithSelector(DatasetRegistry.DatasetRegistryInvalidDonorProof.selector, datasetId, donorASbt)
        );
        vm.prank(donorA);
        registry.withdrawConsent(datasetId, donorASbt, COMMITMENT_B, proof);

        vm.expectRevert(abi.encodeWithSelector(DatasetRegistry.DatasetRegistryUnknownDataset.selector, 99));
        vm.prank(donorA);
        registry.withdrawConsent(99, donorASbt, COMMITMENT_A, proof);
    }

    function test_donorLeaf_matchesTheTypeScriptVector() public view {
        // Same vector as shared/contracts/bindings.test.ts (buildConsentTree builds proofs the registry accepts).
        assertEq(
            registry.donorLeaf(5, keccak256("consent")),
            0xe8c0eb792a5d843f8f0661a1a93a7961b0725937c6b9cab9408f645d4fd2f787,
            "leaf"
        );
    }

    function test_setConsentHook_onlyOnceByTheOwner() public {
        assertEq(address(registry.consentHook()), address(settlement), "wired to the settlement");
        vm.expectRevert(DatasetRegistry.DatasetRegistryHookAlreadySet.selector);
        vm.prank(admin);
        registry.setConsentHook(IConsentHook(address(settlement)));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        registry.setConsentHook(IConsentHook(address(settlement)));
    }

    function test_views_revertForUnknownDatasets() public {
        vm.expectRevert(abi.encodeWithSelector(DatasetRegistry.DatasetRegistryUnknownDataset.selector, 99));
        registry.dataset(99);
        vm.expectRevert(abi.encodeWithSelector(DatasetRegistry.DatasetRegistryUnknownDataset.selector, 99));
        registry.tokenURI(99);
        assertTrue(registry.supportsInterface(0x2a55205a), "ERC-2981");
        assertTrue(registry.supportsInterface(0x80ac58cd), "ERC-721");
        assertEq(address(registry.identity()), address(identity), "identity");
    }
}
