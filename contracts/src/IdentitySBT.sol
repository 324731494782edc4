// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC5192} from "./interfaces/IERC5192.sol";
import {IERC5484} from "./interfaces/IERC5484.sol";
import {IIdentitySBT} from "./interfaces/IIdentitySBT.sol";
import {CosTypes} from "./libraries/CosTypes.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC165, IERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

/**
 * @title IdentitySBT
 * @notice One non-transferable identity token per account (ERC-721 surface, ERC-5192 `locked`, ERC-5484 burn
 * authority). Protocol roles (steward, donor, lab, gateway, orchestrator, region oracle) are attestations on the
 * token, and a region oracle's signed attestation says where the holder is. Nothing personal is stored: an sbtId,
 * role bits, an ISO-3166 alpha-2 region code and the fingerprint of the holder's public FHE key.
 *
 * The issuer (one account: on a consortium chain the consortium's multisig or issuance contract) issues tokens,
 * attests and revokes roles; the owner (admin) appoints the issuer and may open self-registration, where an account
 * issues itself a token with the self-attestable roles.
 *
 * @dev The ERC-721 bookkeeping is written here rather than inherited so that a mint writes two fresh storage slots
 * (holder record, token record) and updates one (id counter and issuer, read together): balances are implied by
 * "one token per account".
 */
contract IdentitySBT is IERC721Metadata, IERC5192, IERC5484, IIdentitySBT, ERC165, Ownable2Step, EIP712 {
    /// @notice EIP-712 type of a region oracle's attestation.
    bytes32 public constant REGION_ATTESTATION_TYPEHASH =
        keccak256("RegionAttestation(uint256 sbtId,bytes2 regionCode,uint40 validUntil,uint40 attestedAt)");

    /// @notice A region oracle's statement that `sbtId`'s holder operates in `regionCode` until `validUntil`.
    struct RegionAttestation {
        uint256 sbtId;
        bytes2 regionCode;
        uint40 validUntil;
        uint40 attestedAt;
    }

    /// @notice Everything known about one token, for the app.
    struct SbtInfo {
        address holder;
        uint16 roles;
        uint40 issuedAt;
        BurnAuth burnAuth;
        bytes2 regionCode;
        uint40 regionValidUntil;
        uint40 regionAttestedAt;
        bytes32 fheKeyFingerprint;
    }

    // One slot per account.
    struct Holder {
        uint64 sbtId;
        uint16 roles;
        uint40 issuedAt;
        BurnAuth burnAuth;
    }

    // One slot per token.
    struct Token {
        address holder;
        bytes2 regionCode;
        uint40 regionValidUntil;
        uint40 regionAttestedAt;
    }

    // One slot: the id counter, the issuer and the self-registration policy.
    struct Registration {
        uint64 nextSbtId;
        address issuer;
        bool open;
        uint16 roles;
    }

    mapping(address account => Holder) private _holders;
    mapping(uint256 sbtId => Token) private _tokens;
    mapping(uint256 sbtId => bytes32) private _fheKeyFingerprints;
    Registration private _registration;

    /// @notice Role attestations `roles` were added to `sbtId` (by the issuer, or by its holder where self-attestable).
    event RolesAttested(uint256 indexed sbtId, uint16 roles);

    /// @notice Role attestations `roles` were removed from `sbtId` (by the issuer, or renounced by its holder).
    event RolesRevoked(uint256 indexed sbtId, uint16 roles);

    /// @notice `issuer` is now the account that issues tokens and attests roles.
    event IssuerSet(address issuer);

    /// @notice `oracle` attested that `sbtId` operates in `regionCode` until `validUntil`.
    event RegionAttested(
        uint256 indexed sbtId, bytes2 regionCode, uint40 validUntil, uint40 attestedAt, address indexed oracle
    );

    /// @notice `oracle` withdrew the region attestation of `sbtId`.
    event RegionRevoked(uint256 indexed sbtId, address indexed oracle);

    /// @notice The holder of `sbtId` published the fingerprint of its public FHE key.
    event FheKeyPublished(uint256 indexed sbtId, bytes32 fingerprint);

    /// @notice Self-registration was opened or closed; `roles` are those a holder may attest for itself.
    event SelfRegistrationConfigured(bool open, uint16 roles);

    error IdentitySBTNotIssuer(address account);
    error IdentitySBTInvalidIssuer();
    error IdentitySBTInvalidHolder(address account);
    error IdentitySBTAlreadyHolder(address account);
    error IdentitySBTNotHolder(address account);
    error IdentitySBTUnknownToken(uint256 sbtId);
    error IdentitySBTNonTransferable();
    error IdentitySBTInvalidBurnAuth(BurnAuth burnAuth);
    error IdentitySBTBurnNotAuthorized(uint256 sbtId, address account);
    error IdentitySBTInvalidRoles(uint16 roles);
    error IdentitySBTSelfRegistrationClosed();
    error IdentitySBTRolesNotSelfAttestable(uint16 roles);
    error IdentitySBTInvalidRegion(bytes2 regionCode);
    error IdentitySBTAttestationExpired(uint256 sbtId, uint40 validUntil);
    error IdentitySBTStaleAttestation(uint256 sbtId, uint40 attestedAt);
    error IdentitySBTNotRegionOracle(address account);

    /**
     * @notice Deploys with `admin` as owner and first issuer; sbtIds start at 1.
     * @param admin Owner of this contract and first issuer (a consortium multisig on a real network).
     */
    constructor(address admin) EIP712("COS Identity", "1") Ownable(admin) {
        _registration = Registration({nextSbtId: 1, issuer: admin, open: false, roles: 0});
        emit IssuerSet(admin);
    }

    modifier onlyIssuer() {
        if (msg.sender != _registration.issuer) revert IdentitySBTNotIssuer(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- issuance and burning

    /**
     * @notice Issues an identity token to `to` with role attestations `roles`.
     *
     * Requirements:
     * - the caller is the issuer;
     * - `to` is not the zero address and holds no token;
     * - `roles` only has bits of CosTypes.ROLE_ALL;
     * - `burnAuth_` lets the holder burn its own token (OwnerOnly or Both).
     *
     * Emits Transfer, Locked, Issued and, when `roles` is not 0, RolesAttested.
     */
    function issue(address to, uint16 roles, BurnAuth burnAuth_) external returns (uint256 sbtId) {
        if (msg.sender != _registration.issuer) revert IdentitySBTNotIssuer(msg.sender);
        if (burnAuth_ != BurnAuth.OwnerOnly && burnAuth_ != BurnAuth.Both) {
            revert IdentitySBTInvalidBurnAuth(burnAuth_);
        }
        return _issue(_registration.nextSbtId, to, roles, burnAuth_);
    }

    /**
     * @notice Issues a token to the caller, where self-registration is open, with self-attested `roles`.
     *
     * Requirements:
     * - self-registration is open;
     * - `roles` is a subset of the self-attestable roles;
     * - the caller holds no token.
     *
     * Emits Transfer, Locked, Issued (burn authority OwnerOnly) and, when `roles` is not 0, RolesAttested.
     */
    function register(uint16 roles) external returns (uint256 sbtId) {
        _requireSelfAttestable(roles);
        return _issue(_registration.nextSbtId, msg.sender, roles, BurnAuth.OwnerOnly);
    }

    /**
     * @notice Burns `sbtId`: every grant bound to it stops working. The account may be issued a new token later,
     * which gets a new sbtId.
     *
     * Requirements:
     * - `sbtId` exists;
     * - the caller is its holder and the burn authority is OwnerOnly or Both, or the caller is the issuer and
     *   the burn authority is IssuerOnly or Both.
     *
     * Emits Transfer to the zero address.
     */
    function burn(uint256 sbtId) external {
        address holder = _requireHolder(sbtId);
        BurnAuth auth = _holders[holder].burnAuth;
        bool byHolder = msg.sender == holder && (auth == BurnAuth.OwnerOnly || auth == BurnAuth.Both);
        bool byIssuer = (auth == BurnAuth.IssuerOnly || auth == BurnAuth.Both) && msg.sender == _registration.issuer;
        if (!byHolder && !byIssuer) revert IdentitySBTBurnNotAuthorized(sbtId, msg.sender);
        delete _holders[holder];
        delete _tokens[sbtId];
        delete _fheKeyFingerprints[sbtId];
        emit Transfer(holder, address(0), sbtId);
    }

    // ---------------------------------------------------------------- role attestations

    /**
     * @notice Adds role attestations `roles` to `sbtId`.
     *
     * Requirements:
     * - the caller is the issuer;
     * - `sbtId` exists and `roles` is a non-empty subset of CosTypes.ROLE_ALL.
     *
     * Emits RolesAttested.
     */
    function attestRoles(uint256 sbtId, uint16 roles) external onlyIssuer {
        _validRoles(roles);
        address holder = _requireHolder(sbtId);
        _holders[holder].roles |= roles;
        emit RolesAttested(sbtId, roles);
    }

    /**
     * @notice Removes role attestations `roles` from `sbtId`.
     *
     * Requirements:
     * - the caller is the issuer;
     * - `sbtId` exists and `roles` is a non-empty subset of CosTypes.ROLE_ALL.
     *
     * Emits RolesRevoked.
     */
    function revokeRoles(uint256 sbtId, uint16 roles) external onlyIssuer {
        _validRoles(roles);
        address holder = _requireHolder(sbtId);
        _holders[holder].roles &= ~roles;
        emit RolesRevoked(sbtId, roles);
    }

    /**
     * @notice Adds self-attested `roles` to the caller's token, where self-registration is open.
     *
     * Requirements:
     * - self-registration is open and `roles` is a non-empty subset of the self-attestable roles;
     * - the caller holds a token.
     *
     * Emits RolesAttested.
     */
    function attestOwnRoles(uint16 roles) external {
        _validRoles(roles);
        _requireSelfAttestable(roles);
        Holder storage holder = _requireCallerHolder();
        holder.roles |= roles;
        emit RolesAttested(holder.sbtId, roles);
    }

    /**
     * @notice Drops role attestations `roles` from the caller's own token.
     *
     * Requirements:
     * - the caller holds a token and `roles` is a non-empty subset of CosTypes.ROLE_ALL.
     *
     * Emits RolesRevoked.
     */
    function renounceRoles(uint16 roles) external {
        _validRoles(roles);
        Holder storage holder = _requireCallerHolder();
        holder.roles &= ~roles;
        emit RolesRevoked(holder.sbtId, roles);
    }

    // ---------------------------------------------------------------- region attestations

    /**
     * @notice Records a region oracle's signed attestation; anyone may submit it.
     *
     * Requirements:
     * - `attestation.sbtId` exists;
     * - `attestation.regionCode` is two upper-case ASCII letters (ISO 3166-1 alpha-2 style);
     * - `attestation.validUntil` is in the future;
     * - `attestation.attestedAt` is not in the future and is newer than the attestation on record;
     * - `signature` is an EIP-712 signature over it by an account attested as region oracle.
     *
     * Emits RegionAttested.
     */
    function attestRegion(RegionAttestation calldata attestation, bytes calldata signature) external {
        uint256 sbtId = attestation.sbtId;
        Token storage token = _tokens[sbtId];
        if (token.holder == address(0)) revert IdentitySBTUnknownToken(sbtId);
        if (!isRegionCode(attestation.regionCode)) revert IdentitySBTInvalidRegion(attestation.regionCode);
        if (attestation.validUntil <= block.timestamp) {
            revert IdentitySBTAttestationExpired(sbtId, attestation.validUntil);
        }
        if (attestation.attestedAt > block.timestamp || attestation.attestedAt <= token.regionAttestedAt) {
            revert IdentitySBTStaleAttestation(sbtId, attestation.attestedAt);
        }
        address oracle = ECDSA.recover(regionAttestationDigest(attestation), signature);
        if (_holders[oracle].roles & CosTypes.ROLE_REGION_ORACLE == 0) revert IdentitySBTNotRegionOracle(oracle);
        token.regionCode = attestation.regionCode;
        token.regionValidUntil = attestation.validUntil;
        token.regionAttestedAt = attestation.attestedAt;
        emit RegionAttested(sbtId, attestation.regionCode, attestation.validUntil, attestation.attestedAt, oracle);
    }

    /**
     * @notice Withdraws the region attestation of `sbtId` at once (the record keeps its attestedAt, so older
     * signed attestations cannot be replayed).
     *
     * Requirements:
     * - the caller is attested as region oracle;
     * - `sbtId` exists.
     *
     * Emits RegionRevoked.
     */
    function revokeRegion(uint256 sbtId) external {
        if (_holders[msg.sender].roles & CosTypes.ROLE_REGION_ORACLE == 0) {
            revert IdentitySBTNotRegionOracle(msg.sender);
        }
        _requireHolder(sbtId);
        Token storage token = _tokens[sbtId];
        token.regionCode = bytes2(0);
        token.regionValidUntil = 0;
        emit RegionRevoked(sbtId, msg.sender);
    }

    // ---------------------------------------------------------------- FHE key and policy

    /**
     * @notice Publishes the fingerprint of the caller's public FHE key on its token (labs receive results
     * switched to this key).
     *
     * Requirements:
     * - the caller holds a token.
     *
     * Emits FheKeyPublished.
     */
    function publishFheKey(bytes32 fingerprint) external {
        uint256 sbtId = _requireCallerHolder().sbtId;
        _fheKeyFingerprints[sbtId] = fingerprint;
        emit FheKeyPublished(sbtId, fingerprint);
    }

    /**
     * @notice Opens or closes self-registration and sets the roles a holder may attest for itself.
     *
     * Requirements:
     * - the caller is the owner;
     * - `roles` only has bits of CosTypes.ROLE_ALL.
     *
     * Emits SelfRegistrationConfigured.
     */
    function setSelfRegistration(bool open, uint16 roles) external onlyOwner {
        if (roles & ~CosTypes.ROLE_ALL != 0) revert IdentitySBTInvalidRoles(roles);
        _registration.open = open;
        _registration.roles = roles;
        emit SelfRegistrationConfigured(open, roles);
    }

    /**
     * @notice Appoints `issuer` as the account that issues tokens and attests roles.
     *
     * Requirements:
     * - the caller is the owner; `issuer_` is not the zero address.
     *
     * Emits IssuerSet.
     */
    function setIssuer(address issuer_) external onlyOwner {
        if (issuer_ == address(0)) revert IdentitySBTInvalidIssuer();
        _registration.issuer = issuer_;
        emit IssuerSet(issuer_);
    }

    // ---------------------------------------------------------------- views used by the other contracts

    /// @inheritdoc IIdentitySBT
    function rolesOf(address account) external view returns (uint256 sbtId, uint16 roles) {
        Holder storage holder = _holders[account];
        return (holder.sbtId, holder.roles);
    }

    /// @inheritdoc IIdentitySBT
    function identityOf(uint256 sbtId)
        external
        view
        returns (address holder, bytes2 regionCode, uint40 regionValidUntil)
    {
        Token storage token = _tokens[sbtId];
        return (token.holder, token.regionCode, token.regionValidUntil);
    }

    /// @notice The token held by `account`, or 0.
    function sbtOf(address account) external view returns (uint256) {
        return _holders[account].sbtId;
    }

    /// @notice The holder of `sbtId`, or address(0) where it was never issued or was burned.
    function holderOf(uint256 sbtId) external view returns (address) {
        return _tokens[sbtId].holder;
    }

    /// @notice Whether `account` holds a token carrying every role bit in `roles`.
    function hasRoles(address account, uint16 roles) external view returns (bool) {
        Holder storage holder = _holders[account];
        return holder.sbtId != 0 && holder.roles & roles == roles;
    }

    /// @notice Whether `sbtId` has a current attestation for `regionCode`.
    function isInRegion(uint256 sbtId, bytes2 regionCode) external view returns (bool) {
        Token storage token = _tokens[sbtId];
        return token.holder != address(0) && regionCode != bytes2(0) && token.regionCode == regionCode
            && block.timestamp < token.regionValidUntil;
    }

    /// @notice Everything on record about `sbtId`. Reverts with IdentitySBTUnknownToken if it does not exist.
    function sbtInfo(uint256 sbtId) external view returns (SbtInfo memory info) {
        address holderAddress = _requireHolder(sbtId);
        Holder storage holder = _holders[holderAddress];
        Token storage token = _tokens[sbtId];
        info = SbtInfo({
            holder: holderAddress,
            roles: holder.roles,
            issuedAt: holder.issuedAt,
            burnAuth: holder.burnAuth,
            regionCode: token.regionCode,
            regionValidUntil: token.regionValidUntil,
            regionAttestedAt: token.regionAttestedAt,
            fheKeyFingerprint: _fheKeyFingerprints[sbtId]
        });
    }

    /// @notice The fingerprint of the public FHE key `sbtId`'s holder published (0 if none).
    function fheKeyFingerprintOf(uint256 sbtId) external view returns (bytes32) {
        return _fheKeyFingerprints[sbtId];
    }

    /// @notice Whether self-registration is open and which roles a holder may attest for itself.
    function selfRegistration() external view returns (bool open, uint16 roles) {
        return (_registration.open, _registration.roles);
    }

    /// @notice The account that issues tokens and attests roles.
    function issuer() external view returns (address) {
        return _registration.issuer;
    }

    /// @notice How many tokens were ever issued (burned ones included).
    function totalIssued() external view returns (uint256) {
        return _registration.nextSbtId - 1;
    }

    /// @notice The EIP-712 digest a region oracle signs for `attestation`.
    function regionAttestationDigest(RegionAttestation calldata attestation) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    REGION_ATTESTATION_TYPEHASH,
                    attestation.sbtId,
                    attestation.regionCode,
                    attestation.validUntil,
                    attestation.attestedAt
                )
            )
        );
    }

    /// @notice Whether `code` is two upper-case ASCII letters (ISO 3166-1 alpha-2 style); 0x0000 is not.
    function isRegionCode(bytes2 code) public pure returns (bool) {
        bytes1 first = code[0];
        bytes1 second = code[1];
        return first >= 0x41 && first <= 0x5a && second >= 0x41 && second <= 0x5a;
    }

    // ---------------------------------------------------------------- ERC-5192, ERC-5484

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireHolder(tokenId);
        return true;
    }

    /// @inheritdoc IERC5484
    function burnAuth(uint256 tokenId) external view returns (BurnAuth) {
        return _holders[_requireHolder(tokenId)].burnAuth;
    }

    // ---------------------------------------------------------------- ERC-721 (read-only; transfers revert)

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert IdentitySBTInvalidHolder(owner);
        return _holders[owner].sbtId == 0 ? 0 : 1;
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireHolder(tokenId);
    }

    /// @inheritdoc IERC721Metadata
    function name() external pure returns (string memory) {
        return "COS Identity";
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external pure returns (string memory) {
        return "COSID";
    }

    /// @inheritdoc IERC721Metadata
    /// @dev Identity tokens carry no off-chain metadata.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        _requireHolder(tokenId);
        return "";
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        _requireHolder(tokenId);
        return address(0);
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @notice Always reverts: identity tokens are locked.
    function approve(address, uint256) external pure {
        revert IdentitySBTNonTransferable();
    }

    /// @notice Always reverts: identity tokens are locked.
    function setApprovalForAll(address, bool) external pure {
        revert IdentitySBTNonTransferable();
    }

    /// @notice Always reverts: identity tokens are locked.
    function transferFrom(address, address, uint256) external pure {
        revert IdentitySBTNonTransferable();
    }

    /// @notice Always reverts: identity tokens are locked.
    function safeTransferFrom(address, address, uint256) external pure {
        revert IdentitySBTNonTransferable();
    }

    /// @notice Always reverts: identity tokens are locked.
    function safeTransferFrom(address, address, uint256, bytes calldata) external pure {
        revert IdentitySBTNonTransferable();
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == type(IERC5192).interfaceId || interfaceId == type(IERC5484).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    function _issue(uint64 nextSbtId, address to, uint16 roles, BurnAuth auth) private returns (uint256 sbtId) {
        if (to == address(0)) revert IdentitySBTInvalidHolder(to);
        if (roles & ~CosTypes.ROLE_ALL != 0) revert IdentitySBTInvalidRoles(roles);
        if (_holders[to].sbtId != 0) revert IdentitySBTAlreadyHolder(to);
        sbtId = nextSbtId;
        _registration.nextSbtId = nextSbtId + 1;
        _storeHolder(_holders[to], nextSbtId, roles, auth);
        _tokens[sbtId].holder = to;
        emit Transfer(address(0), to, sbtId);
        emit Locked(sbtId);
        emit Issued(msg.sender, to, sbtId, auth);
        if (roles != 0) emit RolesAttested(sbtId, roles);
    }

    /// @dev Writes a fresh Holder record with one SSTORE (a struct literal costs a read and write per member). The
    /// layout is Solidity's packing of Holder: sbtId bits 0-63, roles 64-79, issuedAt 80-119, burnAuth 120-127.
    function _storeHolder(Holder storage holder, uint64 sbtId, uint16 roles, BurnAuth auth) private {
        uint256 packed =
            uint256(sbtId) | (uint256(roles) << 64) | (uint256(uint40(block.timestamp)) << 80) | (uint256(auth) << 120);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(holder.slot, packed)
        }
    }

    function _requireHolder(uint256 sbtId) private view returns (address holder) {
        holder = _tokens[sbtId].holder;
        if (holder == address(0)) revert IdentitySBTUnknownToken(sbtId);
    }

    function _requireCallerHolder() private view returns (Holder storage holder) {
        holder = _holders[msg.sender];
        if (holder.sbtId == 0) revert IdentitySBTNotHolder(msg.sender);
    }

    function _requireSelfAttestable(uint16 roles) private view {
        Registration memory registration = _registration;
        if (!registration.open) revert IdentitySBTSelfRegistrationClosed();
        if (roles & ~registration.roles != 0) revert IdentitySBTRolesNotSelfAttestable(roles);
    }

    function _validRoles(uint16 roles) private pure {
        if (roles == 0 || roles & ~CosTypes.ROLE_ALL != 0) revert IdentitySBTInvalidRoles(roles);
    }
}
