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
import {Test} from "../utils/Test.sol";

/**
 * @title CosHandler
 * @notice Drives the whole system with bounded random actions from every role (including accounts without the
 * role), and keeps its own ghost model of each grant: what was granted, whether it was revoked, its window, runs and
 * budget, and every token paid in and out. A call that the model says must fail and that succeeds is counted as a
 * violation; the invariants require every counter to stay 0. Handler calls never revert (fail_on_revert is on).
 */
contract CosHandler is Test {
    struct GhostGrant {
        uint8 labIndex;
        uint256 sbtId;
        bool granted;
        bool revoked;
        uint40 notBefore;
        uint40 expiry;
        uint32 maxRuns;
        uint48 epsilonCap;
        uint64 deltaCap;
        uint32 runs;
        uint256 epsilonCharged;
        uint256 deltaCharged;
    }

    bytes32 internal constant PURPOSE = keccak256("cos.purpose:invariants");

    IdentitySBT public identity;
    DatasetRegistry public registry;
    DataAccess public access;
    Settlement public settlement;
    CosToken public token;

    address public admin;
    address public treasury;
    address public gateway;
    address public oracle;
    address[3] public labs;
    address[2] public stewards;
    address[3] public donors;
    address[2] public orchestrators;
    uint256[2] public datasets;
    uint256[3] public donorSbts;
    bytes32[3] public donorCommitments;
    bytes32[3] internal _leaves;

    uint256[] internal _grantIds;
    uint256[] internal _grantedIds;
    uint256[] internal _permitIds;
    mapping(uint256 grantId => GhostGrant) internal _ghosts;
    mapping(uint256 permitId => uint256) public resultPosts;
    mapping(uint256 sbtId => address) public originalHolder;
    mapping(uint256 sbtId => bool) public burned;
    uint256[] internal _sbtIds;

    // Violations: each must stay 0.
    uint256 public usesOutsideGrant;
    uint256 public runsBeyondMax;
    uint256 public budgetOverruns;
    uint256 public resultsByUnregistered;
    uint256 public duplicateResults;
    uint256 public sbtMoves;

    // Money in and out of the settlement, counted by the handler.
    uint256 public ghostDeposited;
    uint256 public ghostPaidOut;

    // How often each kind of call succeeded (to see the campaign is not vacuous).
    mapping(bytes32 action => uint256) public successes;

    constructor() {
        vm.warp(1_700_000_000);
        admin = makeAddr("inv.admin");
        treasury = makeAddr("inv.treasury");
        gateway = makeAddr("inv.gateway");
        oracle = makeAddr("inv.oracle");
        vm.startPrank(admin);
        identity = new IdentitySBT(admin);
        registry = new DatasetRegistry(identity, admin);
        access = new DataAccess(identity, registry, admin);
        token = new CosToken(admin, 0);
        settlement = new Settlement(token, access, registry, identity, treasury, admin);
        access.setSettlement(address(settlement));
        registry.setConsentHook(settlement);
        access.registerAlgorithm(Algorithms.GWAS_ALLELIC_CHISQ);
        _issue(gateway, CosTypes.ROLE_GATEWAY);
        _issue(oracle, CosTypes.ROLE_REGION_ORACLE);
        for (uint256 i = 0; i < 3; ++i) {
            labs[i] = makeAddr(string.concat("inv.lab", _digit(i)));
            _issue(labs[i], CosTypes.ROLE_LAB);
            token.mint(labs[i], 1e30);
            donors[i] = makeAddr(string.concat("inv.donor", _digit(i)));
            donorSbts[i] = _issue(donors[i], CosTypes.ROLE_DONOR);
            donorCommitments[i] = keccak256(abi.encode("consent", i));
        }
        for (uint256 i = 0; i < 2; ++i) {
            stewards[i] = makeAddr(string.concat("inv.steward", _digit(i)));
            _issue(stewards[i], CosTypes.ROLE_STEWARD);
            orchestrators[i] = makeAddr(string.concat("inv.orchestrator", _digit(i)));
            _issue(orchestrators[i], CosTypes.ROLE_ORCHESTRATOR);
        }
        vm.stopPrank();
        for (uint256 i = 0; i < 3; ++i) {
            _leaves[i] = registry.donorLeaf(donorSbts[i], donorCommitments[i]);
            vm.prank(labs[i]);
            token.approve(address(settlement), type(uint256).max);
        }
        bytes32 root = _hashPair(_hashPair(_leaves[0], _leaves[1]), _leaves[2]);
        for (uint256 i = 0; i < 2; ++i) {
            DatasetRegistry.DatasetInput memory input = DatasetRegistry.DatasetInput({
                manifestCommitment: keccak256(abi.encode("manifest", i)),
                resourceURI: "cos://invariants/manifest.json",
                fheParamsHash: keccak256("params"),
                fheKeyFingerprint: keccak256("key"),
                consentCodes: 2,
                consentRoot: root,
                donorCount: 3,
                royaltyReceiver: address(0),
                royaltyBps: 1000
            });
            vm.prank(stewards[i]);
            datasets[i] = registry.registerDataset(input);
        }
    }

    // ---------------------------------------------------------------- requests and grants

    function request(uint256 labSeed, uint256 datasetSeed, uint256 opSeed) external {
        uint8 labIndex = uint8(labSeed % 3);
        uint256 datasetId = datasets[datasetSeed % 2];
        uint8 opMask = opSeed % 2 == 0 ? CosTypes.OP_ALL : uint8(1 + (opSeed >> 1) % CosTypes.OP_ALL);
        (uint256 sbtId,) = identity.rolesOf(labs[labIndex]);
        vm.prank(labs[labIndex]);
        try access.request(datasetId, opMask, PURPOSE, 0) returns (uint256 grantId) {
            _grantIds.push(grantId);
            _ghosts[grantId].labIndex = labIndex;
            _ghosts[grantId].sbtId = sbtId;
            ++successes["request"];
        } catch {}
    }

    function grant(uint256 grantSeed, uint256 termsSeed) external {
        (bool found, uint256 grantId) = _pickPending(grantSeed);
        if (!found) return;
        DataAccess.GrantTerms memory terms = _terms(grantId, termsSeed);
        address owner = registry.ownerOf(access.getGrant(grantId).datasetId);
        vm.prank(owner);
        try access.grant(grantId, terms) {
            GhostGrant storage ghost = _ghosts[grantId];
            ghost.granted = true;
            ghost.notBefore = terms.notBefore;
            ghost.expiry = terms.expiry;
            ghost.maxRuns = terms.maxRuns;
            ghost.epsilonCap = terms.epsilonCap;
            ghost.deltaCap = terms.deltaCap;
            _grantedIds.push(grantId);
            ++successes["grant"];
        } catch {}
    }

    function deny(uint256 grantSeed) external {
        (bool found, uint256 grantId) = _pickPending(grantSeed);
        if (!found) return;
        address owner = registry.ownerOf(access.getGrant(grantId).datasetId);
        vm.prank(owner);
        try access.deny(grantId) {
            ++successes["deny"];
        } catch {}
    }

    function revoke(uint256 grantSeed, uint256 callerSeed) external {
        if (grantSeed % 3 != 0) return; // revocations end grants: keep them rarer than uses
        (bool found, uint256 grantId) = _pickGrant(grantSeed >> 2);
        if (!found) return;
        bool byOwner = callerSeed % 8 != 0;
        address caller = byOwner ? registry.ownerOf(access.getGrant(grantId).datasetId) : labs[0];
        vm.prank(caller);
        try access.revoke(grantId) {
            if (!byOwner) ++usesOutsideGrant; // only the dataset owner may revoke
            _ghosts[grantId].revoked = true;
            ++successes["revoke"];
        } catch {}
    }

    // ---------------------------------------------------------------- escrow, uses, permits, results

    function fund(uint256 grantSeed, uint256 runsSeed) external {
        (bool found, uint256 grantId) = _pickGrant(grantSeed);
        if (!found) return;
        DataAccess.GrantView memory view_ = access.getGrant(grantId);
        uint256 room = view_.maxRuns > view_.paidRuns ? view_.maxRuns - view_.paidRuns : 1;
        uint32 runs = uint32(1 + runsSeed % (runsSeed % 5 == 0 ? room + 1 : room)); // sometimes one too many
        vm.prank(labs[_ghosts[grantId].labIndex]);
        try settlement.fundGrant(grantId, runs) returns (uint256 amount) {
            ghostDeposited += amount;
            ++successes["fund"];
        } catch {}
    }

    function recordUse(uint256 grantSeed, uint256 opSeed, uint256 callerSeed) external {
        (bool found, uint256 grantId) = _pickGrant(grantSeed);
        if (!found) return;
        bool asGateway = callerSeed % 8 != 0;
        uint8 op = uint8(1 << (opSeed % 4));
        uint8 ticketed = access.getGrant(grantId).opMask & (CosTypes.OP_READ | CosTypes.OP_LIST | CosTypes.OP_EXPORT);
        if (opSeed % 4 != 0 && ticketed != 0) op = ticketed & (~ticketed + 1); // its lowest ticketed op
        vm.prank(asGateway ? gateway : labs[0]);
        try access.recordUse(grantId, op, keccak256(abi.encode(grantId, opSeed)), keccak256("object")) {
            if (!asGateway || op == CosTypes.OP_COMPUTE) ++usesOutsideGrant;
            _chargeGhost(grantId, 0, 0);
            ++successes["use"];
        } catch {}
    }

    function issuePermit(uint256 grantSeed, uint256 epsilonSeed, uint256 deltaSeed, uint256 callerSeed) external {
        (bool found, uint256 grantId) = _pickGrant(grantSeed);
        if (!found) return;
        bool asGrantee = callerSeed % 8 != 0;
        GhostGrant storage ghost = _ghosts[grantId];
        // Charges around a third to a half of the caps, so that a few permits reach and test them.
        uint48 epsilon = uint48(epsilonSeed % (uint256(ghost.epsilonCap) / 2 + 2));
        uint64 delta = uint64(deltaSeed % (uint256(ghost.deltaCap) / 2 + 2));
        address caller = asGrantee ? labs[ghost.labIndex] : labs[(ghost.labIndex + 1) % 3];
        vm.prank(caller);
        try access.issueJobPermit(grantId, Algorithms.GWAS_ALLELIC_CHISQ, PURPOSE, epsilon, delta, bytes32(0)) returns (
            uint256 permitId
        ) {
            if (!asGrantee) ++usesOutsideGrant;
            _chargeGhost(grantId, epsilon, delta);
            _permitIds.push(permitId);
            ++successes["permit"];
            if (ghost.epsilonCharged * 2 > ghost.epsilonCap) ++successes["budgetOverHalf"];
        } catch {}
    }

    function postResult(uint256 permitSeed, uint256 callerSeed) external {
        if (_permitIds.length == 0) return;
        uint256 permitId = _permitIds[permitSeed % _permitIds.length];
        address caller = callerSeed % 3 == 2 ? labs[callerSeed % 3] : orchestrators[callerSeed % 2];
        bool registered = identity.hasRoles(caller, CosTypes.ROLE_ORCHESTRATOR);
        vm.prank(caller);
        try access.postJobResult(permitId, keccak256(abi.encode(permitId)), "cos://invariants/result") {
            if (!registered) ++resultsByUnregistered;
            if (++resultPosts[permitId] > 1) ++duplicateResults;
            ++successes["result"];
        } catch {}
    }

    function toggleOrchestrator(uint256 seed) external {
        address orchestrator = orchestrators[seed % 2];
        (uint256 sbtId,) = identity.rolesOf(orchestrator);
        bool registered = identity.hasRoles(orchestrator, CosTypes.ROLE_ORCHESTRATOR);
        vm.prank(admin);
        if (registered) identity.revokeRoles(sbtId, CosTypes.ROLE_ORCHESTRATOR);
        else identity.attestRoles(sbtId, CosTypes.ROLE_ORCHESTRATOR);
    }

    function attestRegion(uint256 whoSeed, uint256 daysSeed) external {
        (, uint256 grantId) = _pickGrant(whoSeed >> 1);
        address who = whoSeed % 2 == 0 ? labs[_ghosts[grantId].labIndex] : orchestrators[(whoSeed >> 1) % 2];
        (uint256 sbtId,) = identity.rolesOf(who);
        IdentitySBT.RegionAttestation memory attestation = IdentitySBT.RegionAttestation({
            sbtId: sbtId,
            regionCode: "CH",
            validUntil: uint40(block.timestamp + 1 days + (daysSeed % 10) * 1 days),
            attestedAt: uint40(block.timestamp)
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keyOf("inv.oracle"), identity.regionAttestationDigest(attestation));
        try identity.attestRegion(attestation, abi.encodePacked(r, s, v)) {
            ++successes["region"];
        } catch {}
    }

    // ---------------------------------------------------------------- settlement

    function settle(uint256 grantSeed) external {
        (bool found, uint256 grantId) = _pickGrant(grantSeed);
        if (!found) return;
        try settlement.settle(grantId) {
            ++successes["settle"];
        } catch {}
    }

    function refund(uint256 grantSeed) external {
        (bool found, uint256 grantId) = _pickGrant(grantSeed);
        if (!found) return;
        try settlement.refund(grantId) {
            ++successes["refund"];
        } catch {}
    }

    /// @dev End of a run: settle and refund exactly `grantId` (not a fuzz target).
    function closeGrant(uint256 grantId) external {
        try settlement.refund(grantId) {} catch {}
        try settlement.settle(grantId) {} catch {}
    }

    function claim(uint256 actorSeed) external {
        address account = _accounts()[actorSeed % 6];
        vm.prank(account);
        try settlement.claim() returns (uint256 amount) {
            ghostPaidOut += amount;
            ++successes["claim"];
        } catch {}
    }

    function claimDonor(uint256 datasetSeed, uint256 donorSeed) external {
        uint256 index = donorSeed % 3;
        bytes32[] memory proof = donorProof(index);
        vm.prank(donors[index]);
        try settlement.claimDonorRoyalty(
            datasets[datasetSeed % 2], donorSbts[index], donorCommitments[index], proof
        ) returns (
            uint256 amount
        ) {
            ghostPaidOut += amount;
            ++successes["donorClaim"];
        } catch {}
    }

    function toggleConsent(uint256 datasetSeed, uint256 donorSeed) external {
        uint256 index = donorSeed % 3;
        uint256 datasetId = datasets[datasetSeed % 2];
        bytes32[] memory proof = donorProof(index);
        bool withdrawn = registry.isConsentWithdrawn(datasetId, donorSbts[index]);
        vm.prank(donors[index]);
        if (withdrawn) registry.restoreConsent(datasetId, donorSbts[index], donorCommitments[index], proof);
        else registry.withdrawConsent(datasetId, donorSbts[index], donorCommitments[index], proof);
        ++successes[withdrawn ? bytes32("restore") : bytes32("withdraw")];
    }

    // ---------------------------------------------------------------- identity

    function tryMoveSbt(uint256 fromSeed, uint256 toSeed, uint256 how) external {
        address from = _accounts()[fromSeed % 6];
        address to = _accounts()[toSeed % 6];
        (uint256 sbtId,) = identity.rolesOf(from);
        vm.startPrank(from);
        uint256 kind = how % 5;
        bool moved;
        if (kind == 0) {
            try identity.transferFrom(from, to, sbtId) {
                moved = true;
            } catch {}
        } else if (kind == 1) {
            try identity.safeTransferFrom(from, to, sbtId) {
                moved = true;
            } catch {}
        } else if (kind == 2) {
            try identity.safeTransferFrom(from, to, sbtId, "") {
                moved = true;
            } catch {}
        } else if (kind == 3) {
            try identity.approve(to, sbtId) {
                moved = true;
            } catch {}
        } else {
            try identity.setApprovalForAll(to, true) {
                moved = true;
            } catch {}
        }
        vm.stopPrank();
        if (moved) ++sbtMoves;
    }

    /// @dev A lab leaves (burns its token) and is issued a new one: grants bound to the old sbtId must stop.
    function reissueLab(uint256 labSeed) external {
        address lab = labs[labSeed % 3];
        (uint256 oldSbt,) = identity.rolesOf(lab);
        vm.prank(lab);
        identity.burn(oldSbt);
        burned[oldSbt] = true;
        vm.prank(admin);
        _issue(lab, CosTypes.ROLE_LAB);
        ++successes["reissue"];
    }

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + 60 + secondsSeed % (secondsSeed % 8 == 0 ? 3 days : 6 hours));
    }

    // ---------------------------------------------------------------- views for the invariants

    function grantIds() external view returns (uint256[] memory) {
        return _grantIds;
    }

    function permitIds() external view returns (uint256[] memory) {
        return _permitIds;
    }

    function sbtIds() external view returns (uint256[] memory) {
        return _sbtIds;
    }

    function ghostOf(uint256 grantId) external view returns (GhostGrant memory) {
        return _ghosts[grantId];
    }

    /// @dev Every account that can hold a claimable balance: stewards (royalty receivers), the treasury, labs.
    function accounts() external view returns (address[6] memory) {
        return _accounts();
    }

    function donorProof(uint256 index) public view returns (bytes32[] memory proof) {
        if (index == 2) {
            proof = new bytes32[](1);
            proof[0] = _hashPair(_leaves[0], _leaves[1]);
        } else {
            proof = new bytes32[](2);
            proof[0] = _leaves[1 - index];
            proof[1] = _leaves[2];
        }
    }

    // ---------------------------------------------------------------- internals

    function _accounts() internal view returns (address[6] memory) {
        return [stewards[0], stewards[1], treasury, labs[0], labs[1], labs[2]];
    }

    /// @dev Mostly the latest grant still live in the model, so that grants live through their whole lifecycle and
    /// reach their caps; otherwise any request or grant, live or not.
    function _pickGrant(uint256 seed) internal view returns (bool, uint256) {
        uint256 count = _grantIds.length;
        if (count == 0) return (false, 0);
        if (seed % 4 != 0) {
            for (uint256 i = _grantedIds.length; i > 0 && i + 8 > _grantedIds.length; --i) {
                GhostGrant storage ghost = _ghosts[_grantedIds[i - 1]];
                if (!ghost.revoked && !burned[ghost.sbtId] && block.timestamp < ghost.expiry) {
                    return (true, _grantedIds[i - 1]);
                }
            }
        }
        return (true, _grantIds[(seed >> 2) % count]);
    }

    /// @dev Mostly the latest pending request (for the owner's decision); sometimes any request or grant.
    function _pickPending(uint256 seed) internal view returns (bool, uint256) {
        uint256 count = _grantIds.length;
        if (count == 0) return (false, 0);
        if (seed % 4 == 0) return (true, _grantIds[(seed >> 2) % count]);
        for (uint256 i = count; i > 0 && i + 8 > count; --i) {
            uint256 grantId = _grantIds[i - 1];
            if (!_ghosts[grantId].granted && access.getGrant(grantId).opMask != 0) {
                if (uint8(access.getGrant(grantId).status) == 1) return (true, grantId);
            }
        }
        return (true, _grantIds[count - 1]);
    }

    /// @dev A use or permit succeeded: the model says whether it was allowed.
    function _chargeGhost(uint256 grantId, uint48 epsilon, uint64 delta) internal {
        GhostGrant storage ghost = _ghosts[grantId];
        bool inside = ghost.granted && !ghost.revoked && !burned[ghost.sbtId] && block.timestamp >= ghost.notBefore
            && block.timestamp < ghost.expiry;
        if (!inside) ++usesOutsideGrant;
        if (++ghost.runs > ghost.maxRuns) ++runsBeyondMax;
        ghost.epsilonCharged += epsilon;
        ghost.deltaCharged += delta;
        if (ghost.epsilonCharged > ghost.epsilonCap || ghost.deltaCharged > ghost.deltaCap) ++budgetOverruns;
    }

    function _terms(uint256 grantId, uint256 seed) internal view returns (DataAccess.GrantTerms memory terms) {
        uint16 ownerBps = uint16(uint256(keccak256(abi.encode(seed, "owner"))) % 10_001);
        uint16 donorsBps = uint16(uint256(keccak256(abi.encode(seed, "donors"))) % (10_001 - uint256(ownerBps)));
        uint40 notBefore = uint40(block.timestamp + (seed % 4 == 0 ? (seed >> 8) % 6 hours : 0));
        bool rateLimited = (seed >> 16) % 3 == 0;
        terms = DataAccess.GrantTerms({
            opMask: access.getGrant(grantId).opMask,
            notBefore: notBefore,
            expiry: notBefore + uint40(1 hours + (seed >> 24) % 5 days),
            maxRuns: uint32(1 + (seed >> 40) % 8),
            rateWindow: rateLimited ? 1 hours : 0,
            rateMaxRuns: rateLimited ? uint16(1 + (seed >> 48) % 3) : 0,
            regionCode: (seed >> 56) % 4 == 0 ? bytes2("CH") : bytes2(0),
            epsilonCap: uint48((seed >> 64) % 5_000_000),
            deltaCap: uint64((seed >> 96) % 1_000_000_000_000),
            termsHash: keccak256("terms"),
            keySwitchAllowed: (seed >> 128) % 2 == 0,
            feePerUse: (seed >> 136) % 2 == 0 ? 0 : uint88(1e15 + (seed >> 144) % 1e18),
            ownerBps: ownerBps,
            donorsBps: donorsBps,
            platformBps: 10_000 - ownerBps - donorsBps
        });
    }

    function _issue(address account, uint16 roles) internal returns (uint256 sbtId) {
        sbtId = identity.issue(account, roles, IERC5484.BurnAuth.Both);
        originalHolder[sbtId] = account;
        _sbtIds.push(sbtId);
    }

    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _digit(uint256 value) internal pure returns (string memory) {
        return string(abi.encodePacked(bytes1(uint8(48 + value % 10))));
    }
}
