// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DataAccess} from "../src/DataAccess.sol";
import {DatasetRegistry} from "../src/DatasetRegistry.sol";
import {Settlement} from "../src/Settlement.sol";
import {CosTypes} from "../src/libraries/CosTypes.sol";
import {CosFixture} from "./utils/CosFixture.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract SettlementTest is CosFixture {
    event GrantFunded(uint256 indexed grantId, address indexed payer, uint32 runs, uint256 amount);
    event Settled(
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint32 runs,
        address ownerReceiver,
        uint256 ownerAmount,
        uint256 donorsAmount,
        uint256 platformAmount
    );
    event EscrowRefunded(uint256 indexed grantId, address indexed payer, uint32 runs, uint256 amount);
    event RoyaltyClaimed(address indexed account, uint256 amount);
    event DonorRoyaltyClaimed(
        uint256 indexed datasetId, uint256 indexed donorSbtId, address indexed account, uint256 amount
    );

    /// @dev Every token the settlement holds is owed to someone.
    function assertConserved() internal view {
        (uint256 escrowed, uint256 claimableTotal, uint256 donorPool) = settlement.totals();
        assertEq(token.balanceOf(address(settlement)), escrowed + claimableTotal + donorPool, "conservation");
    }

    function useRuns(uint256 grantId, uint256 runs) internal {
        for (uint256 i = 0; i < runs; ++i) {
            recordUse(grantId, CosTypes.OP_READ);
        }
    }

    // ---------------------------------------------------------------- escrow

    function test_fundGrant_escrowsTheFeeForEachPrepaidRun() public {
        uint256 grantId = grantWith(defaultTerms());
        uint256 before = token.balanceOf(lab);
        vm.startPrank(lab);
        token.approve(address(settlement), 20 ether);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit GrantFunded(grantId, lab, 10, 20 ether);
        uint256 amount = settlement.fundGrant(grantId, 10);
        vm.stopPrank();
        assertEq(amount, 20 ether, "fee x runs");
        assertEq(token.balanceOf(lab), before - 20 ether, "paid");
        assertEq(token.balanceOf(address(settlement)), 20 ether, "held");
        assertEq(access.getGrant(grantId).paidRuns, 10, "paidRuns");
        assertEq(settlement.escrowOf(grantId).payer, lab, "payer");
        (uint256 escrowed,,) = settlement.totals();
        assertEq(escrowed, 20 ether, "escrowed");
        assertConserved();
    }

    function test_fundGrant_onlyTheGranteeOnAnActiveGrantWithAFee() public {
        uint256 grantId = grantWith(defaultTerms());
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNotGrantee.selector, grantId, stranger));
        vm.prank(stranger);
        settlement.fundGrant(grantId, 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNotGrantee.selector, 99, lab));
        vm.prank(lab);
        settlement.fundGrant(99, 1);

        vm.startPrank(lab);
        token.approve(address(settlement), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessPaidRunsAboveMax.selector, grantId, uint32(11)));
        settlement.fundGrant(grantId, 11);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessPaidRunsAboveMax.selector, grantId, uint32(0)));
        settlement.fundGrant(grantId, 0);
        vm.stopPrank();

        vm.warp(START + 30 days);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessGrantNotActive.selector, grantId));
        vm.prank(lab);
        settlement.fundGrant(grantId, 1);
    }

    function test_fundGrant_refusesFreeGrants() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.feePerUse = 0;
        uint256 grantId = grantWith(terms);
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNoFee.selector, grantId));
        vm.prank(lab);
        settlement.fundGrant(grantId, 1);
    }

    // ---------------------------------------------------------------- settlement

    function test_settle_splitsChargedRunsByTheGrantsTerms() public {
        uint256 grantId = fundedGrant();
        useRuns(grantId, 2);
        issuePermit(grantId, 1, 1);
        (uint32 pendingRuns, uint256 pendingAmount) = settlement.pendingSettlement(grantId);
        assertEq(pendingRuns, 3, "pending runs");
        assertEq(pendingAmount, 6 ether, "pending amount");

        vm.expectEmit(true, true, true, true, address(settlement));
        emit Settled(grantId, datasetId, 3, steward, 3.6 ether, 1.8 ether, 0.6 ether);
        vm.prank(stranger); // anyone may settle
        assertEq(settlement.settle(grantId), 6 ether, "settled amount");

        assertEq(settlement.claimable(steward), 3.6 ether, "owner 60 %");
        assertEq(settlement.claimable(treasury), 0.6 ether, "platform 10 %");
        assertEq(settlement.donorClaimable(datasetId, donorASbt), 0.9 ether, "donor A 15 %");
        assertEq(settlement.donorClaimable(datasetId, donorBSbt), 0.9 ether, "donor B 15 %");
        assertEq(settlement.escrowOf(grantId).settledRuns, 3, "settledRuns");
        assertEq(settlement.settle(grantId), 0, "nothing twice");
        assertConserved();
    }

    function test_settle_givesTheDivisionRemainderToTheOwner() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.feePerUse = 1010;
        uint256 grantId = grantWith(terms);
        vm.startPrank(lab);
        token.approve(address(settlement), 1010);
        settlement.fundGrant(grantId, 1);
        vm.stopPrank();
        useRuns(grantId, 1);
        settlement.settle(grantId);
        // donors 303 -> 151 each, remainder 1 to the owner; platform 101; owner 1010 - 101 - 302 = 607.
        assertEq(settlement.donorClaimable(datasetId, donorASbt), 151, "donor share");
        assertEq(settlement.claimable(treasury), 101, "platform");
        assertEq(settlement.claimable(steward), 607, "owner with remainder");
        assertConserved();
    }

    function test_settle_paysTheOwnerWhenNoDonorIsActive() public {
        uint256 grantId = fundedGrant();
        bytes32[] memory proof = proofA();
        vm.prank(donorA);
        registry.withdrawConsent(datasetId, donorASbt, COMMITMENT_A, proof);
        proof = proofB();
        vm.prank(donorB);
        registry.withdrawConsent(datasetId, donorBSbt, COMMITMENT_B, proof);
        useRuns(grantId, 1);
        settlement.settle(grantId);
        assertEq(settlement.claimable(steward), 1.8 ether, "owner takes the donors' 30 % too");
        assertEq(settlement.donorClaimable(datasetId, donorASbt), 0, "withdrawn donor");
        assertConserved();
    }

    function test_settle_paysTheERC2981Receiver() public {
        vm.prank(steward);
        registry.setDatasetRoyalty(datasetId, treasury, 0);
        uint256 grantId = fundedGrant();
        useRuns(grantId, 1);
        settlement.settle(grantId);
        assertEq(settlement.claimable(treasury), 1.2 ether + 0.2 ether, "owner share and platform share");
        assertEq(settlement.claimable(steward), 0, "not the owner account");
    }

    // ---------------------------------------------------------------- refunds

    function test_refund_afterRevocationReturnsUnusedRuns() public {
        uint256 grantId = fundedGrant();
        useRuns(grantId, 3);
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementGrantStillActive.selector, grantId));
        settlement.refund(grantId);
        vm.prank(steward);
        access.revoke(grantId);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EscrowRefunded(grantId, lab, 7, 14 ether);
        assertEq(settlement.refund(grantId), 14 ether, "refund");
        assertEq(settlement.claimable(lab), 14 ether, "claimable by the payer");
        assertEq(settlement.claimable(steward), 3.6 ether, "used runs settled on the grant's terms");
        (uint256 escrowed,,) = settlement.totals();
        assertEq(escrowed, 0, "escrow emptied");
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNothingToRefund.selector, grantId));
        settlement.refund(grantId);
        assertConserved();
    }

    function test_refund_afterExpiry() public {
        uint256 grantId = fundedGrant();
        useRuns(grantId, 1);
        vm.warp(START + 30 days);
        settlement.refund(grantId);
        assertEq(settlement.claimable(lab), 18 ether, "9 unused runs");
        assertConserved();
    }

    // ---------------------------------------------------------------- claims

    function test_claim_paysTheWholeBalanceByPull() public {
        uint256 grantId = fundedGrant();
        useRuns(grantId, 1);
        settlement.settle(grantId);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit RoyaltyClaimed(steward, 1.2 ether);
        vm.prank(steward);
        assertEq(settlement.claim(), 1.2 ether, "claimed");
        assertEq(token.balanceOf(steward), 1.2 ether, "paid");
        assertEq(settlement.claimable(steward), 0, "zeroed");
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNothingToClaim.selector, steward));
        vm.prank(steward);
        settlement.claim();
        assertConserved();
    }

    function test_claimDonorRoyalty_withAProofOfMembership() public {
        uint256 grantId = fundedGrant();
        useRuns(grantId, 2);
        settlement.settle(grantId);
        bytes32[] memory proof = proofA();

        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNotDonorHolder.selector, donorASbt, donorB));
        vm.prank(donorB);
        settlement.claimDonorRoyalty(datasetId, donorASbt, COMMITMENT_A, proof);
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementInvalidDonorProof.selector, datasetId, donorASbt));
        vm.prank(donorA);
        settlement.claimDonorRoyalty(datasetId, donorASbt, COMMITMENT_B, proof);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit DonorRoyaltyClaimed(datasetId, donorASbt, donorA, 0.6 ether);
        vm.prank(donorA);
        settlement.claimDonorRoyalty(datasetId, donorASbt, COMMITMENT_A, proof);
        assertEq(token.balanceOf(donorA), 0.6 ether, "paid");
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNothingToClaim.selector, donorA));
        vm.prank(donorA);
        settlement.claimDonorRoyalty(datasetId, donorASbt, COMMITMENT_A, proof);
        assertConserved();
    }

    function test_donorShares_stopWhileConsentIsWithdrawnAndResumeAfter() public {
        uint256 grantId = fundedGrant();
        bytes32[] memory proof = proofA();
        useRuns(grantId, 1);
        settlement.settle(grantId); // 0.3 each
        vm.prank(donorA);
        registry.withdrawConsent(datasetId, donorASbt, COMMITMENT_A, proof);
        useRuns(grantId, 1);
        settlement.settle(grantId); // 0.6 to B alone
        assertEq(settlement.donorClaimable(datasetId, donorASbt), 0.3 ether, "A keeps what accrued");
        assertEq(settlement.donorClaimable(datasetId, donorBSbt), 0.9 ether, "B took the whole share");
        vm.prank(donorA);
        settlement.claimDonorRoyalty(datasetId, donorASbt, COMMITMENT_A, proof);
        vm.prank(donorA);
        registry.restoreConsent(datasetId, donorASbt, COMMITMENT_A, proof);
        useRuns(grantId, 1);
        settlement.settle(grantId); // 0.3 each again
        assertEq(settlement.donorClaimable(datasetId, donorASbt), 0.3 ether, "A accrues again");
        assertEq(settlement.donorClaimable(datasetId, donorBSbt), 1.2 ether, "B");
        assertConserved();
    }

    function testFuzz_settle_conservesEveryToken(
        uint88 fee,
        uint32 paidRuns,
        uint32 usedRuns,
        uint16 ownerBps,
        uint16 donorsBps,
        uint32 donorCount
    ) public {
        fee = uint88(bound(fee, 1, 1000 ether));
        paidRuns = uint32(bound(paidRuns, 1, 20));
        usedRuns = uint32(bound(usedRuns, 0, paidRuns));
        ownerBps = uint16(bound(ownerBps, 0, 10_000));
        donorsBps = uint16(bound(donorsBps, 0, 10_000 - ownerBps));
        donorCount = uint32(bound(donorCount, 0, 1_000_000));

        DatasetRegistry.DatasetInput memory input = datasetInput();
        input.donorCount = donorCount;
        vm.prank(steward);
        datasetId = registry.registerDataset(input);
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.feePerUse = fee;
        terms.maxRuns = 20;
        terms.ownerBps = ownerBps;
        terms.donorsBps = donorsBps;
        terms.platformBps = 10_000 - ownerBps - donorsBps;
        uint256 grantId = grantWith(terms);
        uint256 deposit = uint256(fee) * paidRuns;
        vm.prank(admin);
        token.mint(lab, deposit);
        vm.startPrank(lab);
        token.approve(address(settlement), deposit);
        settlement.fundGrant(grantId, paidRuns);
        vm.stopPrank();
        useRuns(grantId, usedRuns);

        uint256 amount = settlement.settle(grantId);
        assertEq(amount, uint256(fee) * usedRuns, "settled amount");
        uint256 perDonor = settlement.donorAccrual(datasetId);
        uint256 split = settlement.claimable(steward) + settlement.claimable(treasury) + perDonor * donorCount;
        assertEq(split, amount, "split adds up to the fee");
        assertLe(settlement.claimable(treasury), amount * terms.platformBps / 10_000, "platform never rounded up");
        assertConserved();

        vm.prank(steward);
        access.revoke(grantId);
        if (paidRuns > usedRuns) settlement.refund(grantId);
        (uint256 escrowed, uint256 claimableTotal, uint256 donorPool) = settlement.totals();
        assertEq(escrowed, 0, "escrow emptied");
        assertEq(claimableTotal + donorPool, deposit, "everything paid in is claimable out");
        assertConserved();
    }

    // ---------------------------------------------------------------- administration

    function test_onConsentChanged_onlyFromTheRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(Settlement.SettlementNotRegistry.selector, stranger));
        vm.prank(stranger);
        settlement.onConsentChanged(datasetId, donorASbt, true);
    }

    function test_setPlatformTreasury_ownerOnly() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        settlement.setPlatformTreasury(stranger);
        vm.expectRevert(Settlement.SettlementInvalidTreasury.selector);
        vm.prank(admin);
        settlement.setPlatformTreasury(address(0));
        vm.prank(admin);
        settlement.setPlatformTreasury(stranger);
        assertEq(settlement.platformTreasury(), stranger, "moved");
        assertEq(address(settlement.token()), address(token), "token");
        assertEq(address(settlement.dataAccess()), address(access), "access");
        assertEq(address(settlement.registry()), address(registry), "registry");
        assertEq(address(settlement.identity()), address(identity), "identity");
    }
}
