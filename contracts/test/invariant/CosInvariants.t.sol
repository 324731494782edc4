// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DataAccess} from "../../src/DataAccess.sol";
import {IdentitySBT} from "../../src/IdentitySBT.sol";
import {Settlement} from "../../src/Settlement.sol";
import {IDataAccess} from "../../src/interfaces/IDataAccess.sol";
import {InvariantTest, Test} from "../utils/Test.sol";
import {CosHandler} from "./CosHandler.sol";

/**
 * @title CosInvariants
 * @notice The rules that must hold after any sequence of calls by anyone. Each invariant_ function is its own
 * campaign of runs x depth = 64 x 160 = 10,240 handler calls (contracts/foundry.toml [invariant]).
 */
contract CosInvariants is Test, InvariantTest {
    CosHandler internal handler;
    DataAccess internal access;
    Settlement internal settlement;
    IdentitySBT internal identity;

    function setUp() public {
        handler = new CosHandler();
        access = handler.access();
        settlement = handler.settlement();
        identity = handler.identity();
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handlerSelectors()}));
    }

    /// @dev Every handler action; the grant lifecycle (request, grant, fund, use, permit) repeated so it is drawn
    /// more often than the rest: that is where the rules bite.
    function handlerSelectors() internal pure returns (bytes4[] memory selectors) {
        selectors = new bytes4[](28);
        selectors[0] = CosHandler.request.selector;
        selectors[1] = CosHandler.grant.selector;
        selectors[2] = CosHandler.deny.selector;
        selectors[3] = CosHandler.revoke.selector;
        selectors[4] = CosHandler.fund.selector;
        selectors[5] = CosHandler.recordUse.selector;
        selectors[6] = CosHandler.issuePermit.selector;
        selectors[7] = CosHandler.postResult.selector;
        selectors[8] = CosHandler.toggleOrchestrator.selector;
        selectors[9] = CosHandler.attestRegion.selector;
        selectors[10] = CosHandler.settle.selector;
        selectors[11] = CosHandler.refund.selector;
        selectors[12] = CosHandler.claim.selector;
        selectors[13] = CosHandler.claimDonor.selector;
        selectors[14] = CosHandler.toggleConsent.selector;
        selectors[15] = CosHandler.tryMoveSbt.selector;
        selectors[16] = CosHandler.reissueLab.selector;
        selectors[17] = CosHandler.warp.selector;
        selectors[18] = CosHandler.request.selector;
        selectors[19] = CosHandler.grant.selector;
        selectors[20] = CosHandler.grant.selector;
        selectors[21] = CosHandler.fund.selector;
        selectors[22] = CosHandler.fund.selector;
        selectors[23] = CosHandler.recordUse.selector;
        selectors[24] = CosHandler.recordUse.selector;
        selectors[25] = CosHandler.issuePermit.selector;
        selectors[26] = CosHandler.issuePermit.selector;
        selectors[27] = CosHandler.postResult.selector;
    }

    /// No Used event and no job permit after revocation or expiry, before notBefore, for a burned sbtId, by a
    /// non-gateway, for the COMPUTE op through the usage log, or by anyone but the grantee; every run is accounted.
    function invariant_noUseOrPermitOutsideTheGrant() public view {
        assertEq(handler.usesOutsideGrant(), 0, "use or permit outside the grant");
        uint256[] memory ids = handler.grantIds();
        for (uint256 i = 0; i < ids.length; ++i) {
            assertEq(access.getGrant(ids[i]).runsUsed, handler.ghostOf(ids[i]).runs, "a run nobody saw succeed");
        }
    }

    /// runsUsed (uses and permits together) and prepaid runs never exceed maxRuns.
    function invariant_runsNeverAboveMaxRuns() public view {
        assertEq(handler.runsBeyondMax(), 0, "run beyond maxRuns");
        uint256[] memory ids = handler.grantIds();
        for (uint256 i = 0; i < ids.length; ++i) {
            DataAccess.GrantView memory grant = access.getGrant(ids[i]);
            assertLe(grant.runsUsed, grant.maxRuns, "runsUsed <= maxRuns");
            assertLe(grant.paidRuns, grant.maxRuns, "paidRuns <= maxRuns");
            if (grant.feePerUse != 0) assertLe(grant.runsUsed, grant.paidRuns, "every fee-bearing run prepaid");
        }
    }

    /// epsilon and delta spent never exceed their caps, and equal the sum of the permits' charges.
    function invariant_privacyBudgetNeverAboveCaps() public view {
        assertEq(handler.budgetOverruns(), 0, "budget overrun");
        uint256[] memory ids = handler.grantIds();
        for (uint256 i = 0; i < ids.length; ++i) {
            DataAccess.GrantView memory grant = access.getGrant(ids[i]);
            assertLe(grant.epsilonSpent, grant.epsilonCap, "epsilon <= cap");
            assertLe(grant.deltaSpent, grant.deltaCap, "delta <= cap");
            assertEq(grant.epsilonSpent, handler.ghostOf(ids[i]).epsilonCharged, "epsilon ledger");
            assertEq(grant.deltaSpent, handler.ghostOf(ids[i]).deltaCharged, "delta ledger");
        }
    }

    /// Fees are conserved: what the settlement holds is exactly what was paid in less what was claimed, and every
    /// token of it is attributed to a grant's escrow, an account's balance or a donor's share.
    function invariant_feesConserved() public view {
        uint256 held = handler.token().balanceOf(address(settlement));
        assertEq(held, handler.ghostDeposited() - handler.ghostPaidOut(), "in - out");
        (uint256 escrowed, uint256 claimableTotal, uint256 donorPool) = settlement.totals();
        assertEq(held, escrowed + claimableTotal + donorPool, "held = escrow + claimable + donor pool");

        uint256 escrowSum;
        uint256[] memory ids = handler.grantIds();
        for (uint256 i = 0; i < ids.length; ++i) {
            IDataAccess.SettlementTerms memory terms = access.settlementTerms(ids[i]);
            Settlement.Escrow memory escrow = settlement.escrowOf(ids[i]);
            uint256 unsettledRuns = terms.paidRuns - escrow.settledRuns;
            if (escrow.refunded) unsettledRuns = 0;
            escrowSum += unsettledRuns * terms.feePerUse;
        }
        assertEq(escrowed, escrowSum, "escrow per grant");

        uint256 claimableSum;
        address[6] memory accounts = handler.accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            claimableSum += settlement.claimable(accounts[i]);
        }
        assertEq(claimableTotal, claimableSum, "claimable per account");

        uint256 donorSum;
        for (uint256 d = 0; d < 2; ++d) {
            for (uint256 k = 0; k < 3; ++k) {
                donorSum += settlement.donorClaimable(handler.datasets(d), handler.donorSbts(k));
            }
        }
        assertEq(donorPool, donorSum, "donor pool per donor");
    }

    /// Identity tokens never move: every call that would transfer or approve one reverted, each token is with its
    /// first holder or burned, and no account holds two.
    function invariant_sbtNeverTransfers() public view {
        assertEq(handler.sbtMoves(), 0, "an sbt moved");
        uint256[] memory ids = handler.sbtIds();
        for (uint256 i = 0; i < ids.length; ++i) {
            address holder = identity.holderOf(ids[i]);
            if (holder != address(0)) assertEq(holder, handler.originalHolder(ids[i]), "holder changed");
            else assertTrue(handler.burned(ids[i]), "gone only by burning");
        }
        address[6] memory accounts = handler.accounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            assertLe(identity.balanceOf(accounts[i]), 1, "one token per account");
        }
    }

    /// Only accounts attested as orchestrator at the time post results, and each permit gets one result.
    function invariant_onlyRegisteredOrchestratorsPostResults() public view {
        assertEq(handler.resultsByUnregistered(), 0, "result by an unregistered account");
        assertEq(handler.duplicateResults(), 0, "second result for a permit");
        uint256[] memory permits = handler.permitIds();
        for (uint256 i = 0; i < permits.length; ++i) {
            bool posted = access.getJobPermit(permits[i]).resultCommitment != bytes32(0);
            assertEq(handler.resultPosts(permits[i]), posted ? 1 : 0, "one result per posted permit");
        }
    }

    /// After every campaign run: once every grant has ended, everything paid in can be claimed out, to the last unit.
    function afterInvariant() external {
        vm.warp(block.timestamp + 30 days);
        uint256[] memory ids = handler.grantIds();
        for (uint256 i = 0; i < ids.length; ++i) {
            handler.closeGrant(ids[i]);
        }
        for (uint256 i = 0; i < 6; ++i) {
            handler.claim(i);
        }
        for (uint256 d = 0; d < 2; ++d) {
            for (uint256 k = 0; k < 3; ++k) {
                handler.claimDonor(d, k);
            }
        }
        assertEq(handler.token().balanceOf(address(settlement)), 0, "everything paid in was claimed out");
        assertEq(handler.ghostDeposited(), handler.ghostPaidOut(), "in = out");
    }
}

/// @title The handler reaches every state: a fixed pseudo-random walk makes each kind of call succeed.
contract CosHandlerCoverageTest is Test {
    function test_handlerCampaignIsNotVacuous() public {
        CosHandler handler = new CosHandler();
        for (uint256 i = 0; i < 1500; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(i)));
            uint256 action = seed % 16;
            uint256 a = seed >> 8;
            uint256 b = seed >> 72;
            if (action == 0 || action == 1) handler.request(a, b, seed >> 136);
            else if (action == 2 || action == 3) handler.grant(a, uint256(keccak256(abi.encode(b))));
            else if (action == 4) handler.fund(a, b);
            else if (action == 5 || action == 6) handler.recordUse(a, b, seed >> 200);
            else if (action == 7) handler.issuePermit(a, b, seed >> 136, seed >> 200);
            else if (action == 8) handler.postResult(a, b);
            else if (action == 9) handler.settle(a);
            else if (action == 10) handler.claim(a);
            else if (action == 11) handler.claimDonor(a, b);
            else if (action == 12) handler.revoke(a, b);
            else if (action == 13) handler.attestRegion(a, b);
            else if (action == 14 && i % 7 == 0) handler.toggleConsent(a, b);
            else if (action == 15 && i % 3 == 0) handler.warp(a % 1 days);
            if (i % 97 == 0) handler.refund(a);
            if (i % 211 == 0) handler.deny(b);
        }
        bytes32[12] memory actions = [
            bytes32("request"),
            "grant",
            "fund",
            "use",
            "permit",
            "result",
            "settle",
            "claim",
            "donorClaim",
            "revoke",
            "region",
            "withdraw"
        ];
        for (uint256 i = 0; i < actions.length; ++i) {
            assertTrue(handler.successes(actions[i]) > 0, string(abi.encodePacked("never succeeded: ", actions[i])));
        }
        assertEq(handler.usesOutsideGrant(), 0, "no violations on the walk");
    }
}
