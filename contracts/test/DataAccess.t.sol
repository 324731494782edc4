// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DataAccess} from "../src/DataAccess.sol";
import {UsageLog} from "../src/UsageLog.sol";
import {IDataAccess} from "../src/interfaces/IDataAccess.sol";
import {IERC5484} from "../src/interfaces/IERC5484.sol";
import {Algorithms} from "../src/libraries/Algorithms.sol";
import {CosTypes} from "../src/libraries/CosTypes.sol";
import {CosFixture} from "./utils/CosFixture.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract DataAccessTest is CosFixture {
    event Requested(
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint256 indexed granteeSbtId,
        address requester,
        uint8 opMask,
        bytes32 purposeHash,
        uint64 purposeCodes
    );
    event Granted(
        uint256 indexed grantId, uint256 indexed datasetId, uint256 indexed granteeSbtId, DataAccess.GrantTerms terms
    );
    event Denied(uint256 indexed grantId, uint256 indexed datasetId, uint256 indexed granteeSbtId);
    event Revoked(uint256 indexed grantId, uint256 indexed datasetId, uint256 indexed granteeSbtId, uint32 runsUsed);
    event Used(
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint256 indexed granteeSbtId,
        uint8 op,
        uint32 runIndex,
        bytes32 ticketCommitment,
        bytes32 objectDigest,
        uint256 gatewaySbtId
    );
    event JobPermitIssued(
        uint256 indexed permitId,
        uint256 indexed grantId,
        uint256 indexed datasetId,
        uint256 granteeSbtId,
        bytes32 algorithmId,
        bytes32 paramsHash,
        uint48 epsilon,
        uint64 delta,
        bytes2 regionCode,
        uint32 runIndex
    );
    event JobResultPosted(
        uint256 indexed permitId,
        uint256 indexed grantId,
        uint256 indexed orchestratorSbtId,
        bytes32 resultCommitment,
        string resultURI
    );
    event KeySwitchIssued(uint256 indexed permitId, uint256 indexed grantId, bytes32 shareCommitment);

    bytes32 internal constant TICKET = keccak256("ticket 1");
    bytes32 internal constant OBJECT = keccak256("object sha-256");
    bytes32 internal constant RESULT = keccak256("encrypted result");
    string internal constant RESULT_URI = "cos://gateway/results/1";

    function grantError(bytes4 selector, uint256 grantId) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, grantId);
    }

    // ---------------------------------------------------------------- request

    function test_request_opensAGrantBoundToTheLabsSbt() public {
        vm.expectEmit(true, true, true, true, address(access));
        emit Requested(1, datasetId, labSbt, lab, CosTypes.OP_READ | CosTypes.OP_COMPUTE, PURPOSE, CONSENT_CODES);
        vm.prank(lab);
        uint256 grantId = access.request(datasetId, CosTypes.OP_READ | CosTypes.OP_COMPUTE, PURPOSE, CONSENT_CODES);
        assertEq(grantId, 1, "first id");
        assertEq(access.grantCount(), 1, "count");
        assertEq(access.grantIdOf(datasetId, labSbt), grantId, "index");
        DataAccess.GrantView memory view_ = access.getGrant(grantId);
        assertEq(uint256(view_.status), uint256(IDataAccess.GrantStatus.Requested), "requested");
        assertEq(view_.datasetId, datasetId, "dataset");
        assertEq(view_.granteeSbtId, labSbt, "grantee");
        assertEq(view_.opMask, CosTypes.OP_READ | CosTypes.OP_COMPUTE, "ops asked");
        assertEq(view_.purposeHash, PURPOSE, "purpose");
        assertEq(view_.platformBps, 0, "no split before a grant");
    }

    function test_request_requiresALabAttestation() public {
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessMissingRole.selector, steward, CosTypes.ROLE_LAB));
        vm.prank(steward);
        access.request(datasetId, CosTypes.OP_READ, PURPOSE, 0);
    }

    function test_request_rejectsUnknownDatasetsBadOpsAndNoPurpose() public {
        vm.startPrank(lab);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessUnknownDataset.selector, 99));
        access.request(99, CosTypes.OP_READ, PURPOSE, 0);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidOpMask.selector, uint8(0)));
        access.request(datasetId, 0, PURPOSE, 0);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidOpMask.selector, uint8(16)));
        access.request(datasetId, 16, PURPOSE, 0);
        vm.expectRevert(DataAccess.DataAccessInvalidPurpose.selector);
        access.request(datasetId, CosTypes.OP_READ, bytes32(0), 0);
        vm.stopPrank();
    }

    function test_request_allowsOneOpenRequestOrUsableGrantPerDataset() public {
        uint256 grantId = requestAccess();
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessGrantExists.selector, grantId));
        vm.prank(lab);
        access.request(datasetId, CosTypes.OP_READ, PURPOSE, 0);

        vm.prank(steward);
        access.deny(grantId);
        uint256 second = requestAccess();
        assertEq(second, grantId + 1, "new request after a denial");
        vm.prank(steward);
        access.grant(second, defaultTerms());
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessGrantExists.selector, second));
        vm.prank(lab);
        access.request(datasetId, CosTypes.OP_READ, PURPOSE, 0);

        vm.warp(START + 30 days);
        assertEq(requestAccess(), second + 1, "new request once the grant expired");
    }

    // ---------------------------------------------------------------- grant, deny, revoke

    function test_grant_setsEveryClause() public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.opMask = CosTypes.OP_READ | CosTypes.OP_COMPUTE;
        terms.rateWindow = 1 hours;
        terms.rateMaxRuns = 3;
        terms.regionCode = CH;
        vm.expectEmit(true, true, true, true, address(access));
        emit Granted(grantId, datasetId, labSbt, terms);
        vm.prank(steward);
        access.grant(grantId, terms);

        DataAccess.GrantView memory view_ = access.getGrant(grantId);
        assertEq(uint256(view_.status), uint256(IDataAccess.GrantStatus.Granted), "granted");
        assertEq(view_.opMask, terms.opMask, "opMask");
        assertEq(view_.notBefore, terms.notBefore, "notBefore");
        assertEq(view_.expiry, terms.expiry, "expiry");
        assertEq(view_.maxRuns, terms.maxRuns, "maxRuns");
        assertEq(view_.rateWindow, 1 hours, "rateWindow");
        assertEq(view_.rateMaxRuns, 3, "rateMaxRuns");
        assertEq(view_.regionCode, CH, "region");
        assertEq(view_.epsilonCap, terms.epsilonCap, "epsilonCap");
        assertEq(view_.deltaCap, terms.deltaCap, "deltaCap");
        assertEq(view_.termsHash, TERMS, "termsHash");
        assertTrue(view_.keySwitchAllowed, "key switching");
        assertEq(view_.feePerUse, FEE, "fee");
        assertEq(view_.ownerBps, 6000, "owner");
        assertEq(view_.donorsBps, 3000, "donors");
        assertEq(view_.platformBps, 1000, "platform");
        assertEq(view_.runsUsed, 0, "unused");
        assertEq(view_.purposeHash, PURPOSE, "purpose kept");
    }

    function test_grant_onlyByTheDatasetOwnerOnAPendingRequest() public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotDatasetOwner.selector, datasetId, lab));
        vm.prank(lab);
        access.grant(grantId, terms);
        vm.prank(steward);
        access.grant(grantId, terms);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotRequested.selector, grantId));
        vm.prank(steward);
        access.grant(grantId, terms);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotRequested.selector, 99));
        vm.prank(steward);
        access.grant(99, terms);
    }

    function test_grant_cannotWidenTheRequestedOps() public {
        vm.prank(lab);
        uint256 grantId = access.request(datasetId, CosTypes.OP_READ, PURPOSE, 0);
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.opMask = CosTypes.OP_READ | CosTypes.OP_EXPORT;
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidOpMask.selector, terms.opMask));
        vm.prank(steward);
        access.grant(grantId, terms);
    }

    function testFuzz_grant_acceptsOnlyAnOrderedWindowEndingInTheFuture(uint40 notBefore, uint40 expiry) public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.notBefore = notBefore;
        terms.expiry = expiry;
        vm.prank(steward);
        if (expiry <= notBefore || expiry <= block.timestamp) {
            vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidWindow.selector, notBefore, expiry));
            access.grant(grantId, terms);
        } else {
            access.grant(grantId, terms);
            assertEq(access.getGrant(grantId).expiry, expiry, "expiry stored");
        }
    }

    function testFuzz_grant_splitMustSumToTheWholeFee(uint16 ownerBps, uint16 donorsBps, uint16 platformBps) public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.ownerBps = ownerBps;
        terms.donorsBps = donorsBps;
        terms.platformBps = platformBps;
        vm.prank(steward);
        if (uint256(ownerBps) + donorsBps + platformBps != 10_000) {
            vm.expectRevert(
                abi.encodeWithSelector(DataAccess.DataAccessInvalidSplit.selector, ownerBps, donorsBps, platformBps)
            );
            access.grant(grantId, terms);
        } else {
            access.grant(grantId, terms);
            assertEq(access.getGrant(grantId).platformBps, platformBps, "platform share");
        }
    }

    function testFuzz_grant_regionIsAnywhereOrTwoUpperCaseLetters(bytes2 region) public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.regionCode = region;
        bool valid = region == bytes2(0) || identity.isRegionCode(region);
        vm.prank(steward);
        if (!valid) vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidRegion.selector, region));
        access.grant(grantId, terms);
    }

    function testFuzz_grant_rateLimitNeedsBothHalves(uint32 rateWindow, uint16 rateMaxRuns) public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.rateWindow = rateWindow;
        terms.rateMaxRuns = rateMaxRuns;
        vm.prank(steward);
        if ((rateWindow == 0) != (rateMaxRuns == 0)) {
            vm.expectRevert(
                abi.encodeWithSelector(DataAccess.DataAccessInvalidRateLimit.selector, rateWindow, rateMaxRuns)
            );
        }
        access.grant(grantId, terms);
    }

    function testFuzz_grant_budgetDeltaAtMostOne(uint48 epsilonCap, uint64 deltaCap) public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.epsilonCap = epsilonCap;
        terms.deltaCap = deltaCap;
        vm.prank(steward);
        if (deltaCap > CosTypes.DELTA_SCALE) {
            vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidBudget.selector, epsilonCap, deltaCap));
        }
        access.grant(grantId, terms);
    }

    function test_grant_rejectsZeroRunsAndMissingTerms() public {
        uint256 grantId = requestAccess();
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.maxRuns = 0;
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidRuns.selector, uint32(0)));
        vm.prank(steward);
        access.grant(grantId, terms);
        terms = defaultTerms();
        terms.termsHash = bytes32(0);
        vm.expectRevert(DataAccess.DataAccessInvalidTerms.selector);
        vm.prank(steward);
        access.grant(grantId, terms);
    }

    function test_deny_closesAPendingRequest() public {
        uint256 grantId = requestAccess();
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotDatasetOwner.selector, datasetId, stranger));
        vm.prank(stranger);
        access.deny(grantId);
        vm.expectEmit(true, true, true, true, address(access));
        emit Denied(grantId, datasetId, labSbt);
        vm.prank(steward);
        access.deny(grantId);
        assertEq(uint256(access.getGrant(grantId).status), uint256(IDataAccess.GrantStatus.Denied), "denied");
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "no access");
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotRequested.selector, grantId));
        vm.prank(steward);
        access.deny(grantId);
    }

    function test_revoke_stopsEveryUseAtOnce() public {
        uint256 grantId = fundedGrant();
        recordUse(grantId, CosTypes.OP_READ);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotDatasetOwner.selector, datasetId, lab));
        vm.prank(lab);
        access.revoke(grantId);
        vm.expectEmit(true, true, true, true, address(access));
        emit Revoked(grantId, datasetId, labSbt, 1);
        vm.prank(steward);
        access.revoke(grantId);

        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "no read");
        vm.expectRevert(grantError(DataAccess.DataAccessGrantRevoked.selector, grantId));
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);
        vm.expectRevert(grantError(DataAccess.DataAccessGrantRevoked.selector, grantId));
        issuePermit(grantId, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotGranted.selector, grantId));
        vm.prank(steward);
        access.revoke(grantId);
    }

    // ---------------------------------------------------------------- canAccess and checkAccess

    function test_canAccess_followsTheTimeWindow() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.notBefore = uint40(START + 1 days);
        terms.expiry = uint40(START + 2 days);
        uint256 grantId = grantWith(terms);
        fund(grantId, 10);
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "before notBefore");
        vm.expectRevert(grantError(DataAccess.DataAccessGrantNotYetValid.selector, grantId));
        access.checkAccess(labSbt, lab, datasetId, CosTypes.OP_READ);
        vm.warp(START + 1 days);
        assertTrue(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "at notBefore");
        assertEq(access.checkAccess(labSbt, lab, datasetId, CosTypes.OP_READ), grantId, "checkAccess id");
        vm.warp(START + 2 days - 1);
        assertTrue(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "last second");
        vm.warp(START + 2 days);
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "at expiry");
        vm.expectRevert(grantError(DataAccess.DataAccessGrantExpired.selector, grantId));
        access.checkAccess(labSbt, lab, datasetId, CosTypes.OP_READ);
    }

    function testFuzz_canAccess_onlySingleGrantedOps(uint8 grantedOps, uint8 op) public {
        grantedOps = uint8(bound(grantedOps, 1, CosTypes.OP_ALL));
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.opMask = grantedOps;
        uint256 grantId = grantWith(terms);
        fund(grantId, 1);
        bool single = op != 0 && op & (op - 1) == 0;
        assertEq(access.canAccess(labSbt, lab, datasetId, op), single && grantedOps & op != 0, "op rule");
    }

    function testFuzz_canAccess_timeWindow(uint40 notBefore, uint40 length, uint40 moment) public {
        notBefore = uint40(bound(notBefore, START, START + 365 days));
        length = uint40(bound(length, 1, 365 days));
        moment = uint40(bound(moment, START, START + 800 days));
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.notBefore = notBefore;
        terms.expiry = notBefore + length;
        uint256 grantId = grantWith(terms);
        fund(grantId, 1);
        vm.warp(moment);
        bool inside = moment >= notBefore && moment < notBefore + length;
        assertEq(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), inside, "window rule");
    }

    function test_canAccess_isBoundToTheSbtAndItsHolder() public {
        uint256 grantId = fundedGrant();
        assertTrue(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "holder");
        assertFalse(access.canAccess(labSbt, stranger, datasetId, CosTypes.OP_READ), "not the holder");
        assertFalse(access.canAccess(labSbt, address(0), datasetId, CosTypes.OP_READ), "zero grantee");
        assertFalse(access.canAccess(donorASbt, donorA, datasetId, CosTypes.OP_READ), "another sbt");
        vm.expectRevert(grantError(DataAccess.DataAccessGranteeNotHolder.selector, grantId));
        access.checkAccess(labSbt, stranger, datasetId, CosTypes.OP_READ);

        vm.prank(lab);
        identity.burn(labSbt);
        vm.prank(admin);
        identity.issue(lab, CosTypes.ROLE_LAB, IERC5484.BurnAuth.Both);
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "burned sbt voids the grant");
        vm.expectRevert(grantError(DataAccess.DataAccessGranteeNotHolder.selector, grantId));
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);
    }

    function test_canAccess_checksTheRegionAttestation() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.regionCode = CH;
        uint256 grantId = grantWith(terms);
        fund(grantId, 10);
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "no attestation");
        vm.expectRevert(grantError(DataAccess.DataAccessRegionNotAttested.selector, grantId));
        access.checkAccess(labSbt, lab, datasetId, CosTypes.OP_READ);

        attestRegion(labSbt, "DE");
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "wrong region");
        vm.warp(START + 1);
        attestRegion(labSbt, CH);
        assertTrue(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "attested in CH");
        vm.warp(START + 1 + 365 days);
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "attestation lapsed");
    }

    function test_canAccess_needsPrepaidRunsWhenThereIsAFee() public {
        uint256 grantId = grantWith(defaultTerms());
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "unfunded");
        vm.expectRevert(grantError(DataAccess.DataAccessEscrowExhausted.selector, grantId));
        access.checkAccess(labSbt, lab, datasetId, CosTypes.OP_READ);
        fund(grantId, 1);
        recordUse(grantId, CosTypes.OP_READ);
        vm.expectRevert(grantError(DataAccess.DataAccessEscrowExhausted.selector, grantId));
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);

        DataAccess.GrantTerms memory free = defaultTerms();
        free.feePerUse = 0;
        vm.prank(steward);
        access.revoke(grantId);
        uint256 freeGrant = grantWith(free);
        assertTrue(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "no fee, no escrow needed");
        assertEq(access.grantIdOf(datasetId, labSbt), freeGrant, "latest grant");
    }

    // ---------------------------------------------------------------- usage log

    function test_recordUse_logsAndChargesOneRun() public {
        uint256 grantId = fundedGrant();
        vm.expectEmit(true, true, true, true, address(access));
        emit Used(grantId, datasetId, labSbt, CosTypes.OP_READ, 1, TICKET, OBJECT, gatewaySbt);
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);
        vm.expectEmit(true, true, true, true, address(access));
        emit Used(grantId, datasetId, labSbt, CosTypes.OP_EXPORT, 2, TICKET, OBJECT, gatewaySbt);
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_EXPORT, TICKET, OBJECT);
        assertEq(access.getGrant(grantId).runsUsed, 2, "two runs");
    }

    function test_recordUse_onlyByAGatewayForTicketedOps() public {
        uint256 grantId = fundedGrant();
        vm.expectRevert(
            abi.encodeWithSelector(DataAccess.DataAccessMissingRole.selector, stranger, CosTypes.ROLE_GATEWAY)
        );
        vm.prank(stranger);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidOp.selector, CosTypes.OP_COMPUTE));
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_COMPUTE, TICKET, OBJECT);
        vm.expectRevert(UsageLog.UsageLogInvalidTicket.selector);
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, bytes32(0), OBJECT);
        vm.expectRevert(grantError(DataAccess.DataAccessUnknownGrant.selector, 99));
        vm.prank(gateway);
        access.recordUse(99, CosTypes.OP_READ, TICKET, OBJECT);
    }

    function test_recordUse_stopsAtMaxRuns() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.maxRuns = 2;
        uint256 grantId = grantWith(terms);
        fund(grantId, 2);
        recordUse(grantId, CosTypes.OP_READ);
        recordUse(grantId, CosTypes.OP_LIST);
        vm.expectRevert(grantError(DataAccess.DataAccessRunsExhausted.selector, grantId));
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);
        assertEq(requestAccess(), grantId + 1, "an exhausted grant no longer blocks a new request");
    }

    function test_recordUse_enforcesTheRateLimitPerWindow() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.rateWindow = 1 hours;
        terms.rateMaxRuns = 2;
        uint256 grantId = grantWith(terms);
        fund(grantId, 10);
        recordUse(grantId, CosTypes.OP_READ);
        vm.warp(START + 30 minutes);
        recordUse(grantId, CosTypes.OP_READ);
        assertFalse(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "window full");
        vm.expectRevert(grantError(DataAccess.DataAccessRateLimited.selector, grantId));
        vm.prank(gateway);
        access.recordUse(grantId, CosTypes.OP_READ, TICKET, OBJECT);
        vm.warp(START + 1 hours);
        assertTrue(access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ), "next window");
        recordUse(grantId, CosTypes.OP_READ);
        DataAccess.GrantView memory view_ = access.getGrant(grantId);
        assertEq(view_.windowStart, START + 1 hours, "window restarted");
        assertEq(view_.windowRuns, 1, "one run in the new window");
    }

    function testFuzz_rateLimit_neverMoreThanRateMaxRunsPerWindow(uint16 rateMaxRuns, uint32 rateWindow, uint8 steps)
        public
    {
        rateMaxRuns = uint16(bound(rateMaxRuns, 1, 5));
        rateWindow = uint32(bound(rateWindow, 1, 1 days));
        steps = uint8(bound(steps, 1, 40));
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.rateWindow = rateWindow;
        terms.rateMaxRuns = rateMaxRuns;
        terms.maxRuns = 1000;
        terms.feePerUse = 0;
        uint256 grantId = grantWith(terms);
        uint256 windowStart;
        uint256 inWindow;
        for (uint256 i = 0; i < steps; ++i) {
            vm.warp(block.timestamp + (uint256(keccak256(abi.encode(i, rateWindow))) % (rateWindow / 2 + 1)));
            bool allowed = access.canAccess(labSbt, lab, datasetId, CosTypes.OP_READ);
            if (allowed) {
                recordUse(grantId, CosTypes.OP_READ);
                if (block.timestamp >= windowStart + rateWindow) {
                    windowStart = block.timestamp;
                    inWindow = 0;
                }
                ++inWindow;
            }
            assertLe(inWindow, rateMaxRuns, "runs per window");
        }
    }

    function test_recordUses_recordsABatchAllOrNothing() public {
        uint256 grantId = fundedGrant();
        UsageLog.UseRecord[] memory uses = new UsageLog.UseRecord[](3);
        for (uint256 i = 0; i < 3; ++i) {
            uses[i] = UsageLog.UseRecord({
                grantId: grantId, op: CosTypes.OP_READ, ticketCommitment: TICKET, objectDigest: bytes32(i)
            });
        }
        vm.prank(gateway);
        access.recordUses(uses);
        assertEq(access.getGrant(grantId).runsUsed, 3, "three runs");

        uses[2].op = CosTypes.OP_COMPUTE;
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidOp.selector, CosTypes.OP_COMPUTE));
        vm.prank(gateway);
        access.recordUses(uses);
        assertEq(access.getGrant(grantId).runsUsed, 3, "nothing recorded");
        vm.expectRevert(UsageLog.UsageLogEmptyBatch.selector);
        vm.prank(gateway);
        access.recordUses(new UsageLog.UseRecord[](0));
    }

    // ---------------------------------------------------------------- job permits and results

    function test_issueJobPermit_chargesARunAndTheBudget() public {
        uint256 grantId = fundedGrant();
        vm.expectEmit(true, true, true, true, address(access));
        emit JobPermitIssued(
            1, grantId, datasetId, labSbt, Algorithms.GWAS_ALLELIC_CHISQ, PARAMS, 1_000_000, 1e9, bytes2(0), 1
        );
        uint256 permitId = issuePermit(grantId, 1_000_000, 1e9);
        assertEq(permitId, 1, "first permit");
        assertEq(access.permitCount(), 1, "count");
        DataAccess.GrantView memory view_ = access.getGrant(grantId);
        assertEq(view_.runsUsed, 1, "run charged");
        assertEq(view_.epsilonSpent, 1_000_000, "epsilon charged");
        assertEq(view_.deltaSpent, 1e9, "delta charged");
        DataAccess.JobPermit memory permit = access.getJobPermit(permitId);
        assertEq(permit.grantId, grantId, "permit grant");
        assertEq(permit.algorithmId, Algorithms.GWAS_ALLELIC_CHISQ, "algorithm");
        assertEq(permit.epsilon, 1_000_000, "epsilon");
        assertEq(permit.delta, 1e9, "delta");
        assertEq(permit.issuedAt, START, "issuedAt");
        assertEq(permit.resultCommitment, bytes32(0), "no result yet");
    }

    function test_issueJobPermit_failsAtomicallyWhenAClauseFails() public {
        uint256 grantId = fundedGrant();
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessPurposeMismatch.selector, grantId, TERMS));
        vm.prank(lab);
        access.issueJobPermit(grantId, Algorithms.GWAS_ALLELIC_CHISQ, TERMS, 1, 1, PARAMS);

        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessUnknownAlgorithm.selector, Algorithms.GWAS_TREND));
        vm.prank(lab);
        access.issueJobPermit(grantId, Algorithms.GWAS_TREND, PURPOSE, 1, 1, PARAMS);

        vm.expectRevert(
            abi.encodeWithSelector(DataAccess.DataAccessBudgetExceeded.selector, grantId, uint48(3_000_001), 0)
        );
        issuePermit(grantId, 3_000_001, 0);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessBudgetExceeded.selector, grantId, 0, 1e12 + 1));
        issuePermit(grantId, 0, 1e12 + 1);

        vm.expectRevert(grantError(DataAccess.DataAccessGranteeNotHolder.selector, grantId));
        vm.prank(stranger);
        access.issueJobPermit(grantId, Algorithms.GWAS_ALLELIC_CHISQ, PURPOSE, 1, 1, PARAMS);

        DataAccess.GrantView memory view_ = access.getGrant(grantId);
        assertEq(view_.runsUsed, 0, "no run charged");
        assertEq(view_.epsilonSpent, 0, "no budget charged");
    }

    function test_issueJobPermit_needsTheComputeOp() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.opMask = CosTypes.OP_READ;
        uint256 grantId = grantWith(terms);
        fund(grantId, 1);
        vm.expectRevert(grantError(DataAccess.DataAccessOpNotGranted.selector, grantId));
        issuePermit(grantId, 1, 1);
    }

    function testFuzz_budget_neverExceedsTheCaps(uint48[6] memory epsilons, uint64[6] memory deltas) public {
        uint256 grantId = fundedGrant();
        uint256 epsilonSpent;
        uint256 deltaSpent;
        for (uint256 i = 0; i < 6; ++i) {
            uint48 epsilon = uint48(bound(epsilons[i], 0, 2_000_000));
            uint64 delta = uint64(bound(deltas[i], 0, 6e11));
            bool fits = epsilonSpent + epsilon <= 3_000_000 && deltaSpent + delta <= 1e12;
            if (!fits) {
                vm.expectRevert(
                    abi.encodeWithSelector(DataAccess.DataAccessBudgetExceeded.selector, grantId, epsilon, delta)
                );
            }
            issuePermit(grantId, epsilon, delta);
            if (fits) {
                epsilonSpent += epsilon;
                deltaSpent += delta;
            }
            DataAccess.GrantView memory view_ = access.getGrant(grantId);
            assertEq(view_.epsilonSpent, epsilonSpent, "epsilon ledger");
            assertEq(view_.deltaSpent, deltaSpent, "delta ledger");
            assertLe(view_.epsilonSpent, view_.epsilonCap, "epsilon cap");
            assertLe(view_.deltaSpent, view_.deltaCap, "delta cap");
        }
    }

    function test_postJobResult_onceByARegisteredOrchestrator() public {
        uint256 grantId = fundedGrant();
        uint256 permitId = issuePermit(grantId, 1, 1);
        vm.expectRevert(
            abi.encodeWithSelector(DataAccess.DataAccessMissingRole.selector, lab, CosTypes.ROLE_ORCHESTRATOR)
        );
        vm.prank(lab);
        access.postJobResult(permitId, RESULT, RESULT_URI);

        vm.expectEmit(true, true, true, true, address(access));
        emit JobResultPosted(permitId, grantId, orchestratorSbt, RESULT, RESULT_URI);
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);
        assertEq(access.getJobPermit(permitId).resultCommitment, RESULT, "stored");

        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessResultAlreadyPosted.selector, permitId));
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);
    }

    function test_postJobResult_rejectsUnknownPermitsAndEmptyResults() public {
        uint256 permitId = issuePermit(fundedGrant(), 1, 1);
        vm.startPrank(orchestrator);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessUnknownPermit.selector, 99));
        access.postJobResult(99, RESULT, RESULT_URI);
        vm.expectRevert(DataAccess.DataAccessInvalidResult.selector);
        access.postJobResult(permitId, bytes32(0), RESULT_URI);
        vm.expectRevert(DataAccess.DataAccessInvalidResult.selector);
        access.postJobResult(permitId, RESULT, "");
        vm.expectRevert(DataAccess.DataAccessInvalidResult.selector);
        access.postJobResult(permitId, RESULT, string(new bytes(CosTypes.MAX_URI_LENGTH + 1)));
        vm.stopPrank();
    }

    function test_postJobResult_keepsComputeInTheGrantsRegion() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.regionCode = CH;
        uint256 grantId = grantWith(terms);
        fund(grantId, 10);
        attestRegion(labSbt, CH);
        uint256 permitId = issuePermit(grantId, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessOrchestratorOutOfRegion.selector, permitId, CH));
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);
        attestRegion(orchestratorSbt, CH);
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);
    }

    function test_postJobResult_allowedForAPermitIssuedBeforeRevocation() public {
        uint256 grantId = fundedGrant();
        uint256 permitId = issuePermit(grantId, 1, 1);
        vm.prank(steward);
        access.revoke(grantId);
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);
        assertEq(access.getJobPermit(permitId).resultCommitment, RESULT, "result of a permit already paid for");
    }

    function test_recordKeySwitch_onlyWhereTheTermsAllow() public {
        uint256 grantId = fundedGrant();
        uint256 permitId = issuePermit(grantId, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessResultNotPosted.selector, permitId));
        vm.prank(steward);
        access.recordKeySwitch(permitId, keccak256("share"));
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);

        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotDatasetOwner.selector, datasetId, lab));
        vm.prank(lab);
        access.recordKeySwitch(permitId, keccak256("share"));

        vm.expectEmit(true, true, true, true, address(access));
        emit KeySwitchIssued(permitId, grantId, keccak256("share"));
        vm.prank(steward);
        access.recordKeySwitch(permitId, keccak256("share"));

        vm.prank(steward);
        access.revoke(grantId);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessKeySwitchNotAllowed.selector, grantId));
        vm.prank(steward);
        access.recordKeySwitch(permitId, keccak256("share"));
    }

    function test_recordKeySwitch_refusedWhenTermsForbidIt() public {
        DataAccess.GrantTerms memory terms = defaultTerms();
        terms.keySwitchAllowed = false;
        uint256 grantId = grantWith(terms);
        fund(grantId, 1);
        uint256 permitId = issuePermit(grantId, 1, 1);
        vm.prank(orchestrator);
        access.postJobResult(permitId, RESULT, RESULT_URI);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessKeySwitchNotAllowed.selector, grantId));
        vm.prank(steward);
        access.recordKeySwitch(permitId, keccak256("share"));
    }

    // ---------------------------------------------------------------- administration

    function test_algorithms_registerOnceRetireStopsNewPermits() public {
        vm.expectRevert(
            abi.encodeWithSelector(DataAccess.DataAccessAlgorithmExists.selector, Algorithms.GWAS_ALLELIC_CHISQ)
        );
        vm.prank(admin);
        access.registerAlgorithm(Algorithms.GWAS_ALLELIC_CHISQ);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        access.registerAlgorithm(Algorithms.GWAS_TREND);

        uint256 grantId = fundedGrant();
        uint256 permitId = issuePermit(grantId, 1, 1);
        vm.prank(admin);
        access.retireAlgorithm(Algorithms.GWAS_ALLELIC_CHISQ);
        assertFalse(access.isAlgorithmActive(Algorithms.GWAS_ALLELIC_CHISQ), "retired");
        assertEq(access.getJobPermit(permitId).algorithmId, Algorithms.GWAS_ALLELIC_CHISQ, "old permit keeps it");
        vm.expectRevert(
            abi.encodeWithSelector(DataAccess.DataAccessUnknownAlgorithm.selector, Algorithms.GWAS_ALLELIC_CHISQ)
        );
        issuePermit(grantId, 1, 1);
        bytes32[] memory ids = access.algorithmIds();
        assertEq(ids.length, 2, "two registered");
        assertEq(ids[1], Algorithms.ALLELE_COUNTS, "in order");
    }

    function test_creditPaidRuns_onlyFromTheSettlement() public {
        uint256 grantId = grantWith(defaultTerms());
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessNotSettlement.selector, lab));
        vm.prank(lab);
        access.creditPaidRuns(grantId, 1);
        vm.expectRevert(DataAccess.DataAccessSettlementAlreadySet.selector);
        vm.prank(admin);
        access.setSettlement(address(settlement));

        DataAccess fresh = new DataAccess(identity, registry, admin);
        vm.expectRevert(abi.encodeWithSelector(DataAccess.DataAccessInvalidSettlement.selector, stranger));
        vm.prank(admin);
        fresh.setSettlement(stranger);
    }

    function test_algorithmIdsAreTheDocumentedHashes() public pure {
        assertEq(Algorithms.ALLELE_COUNTS, keccak256("cos.alg.allele-counts.v1"), "allele counts");
        assertEq(Algorithms.GWAS_TREND, keccak256("cos.alg.gwas-cochran-armitage-trend.v1"), "trend");
    }
}
