// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsentHook} from "./interfaces/IConsentHook.sol";
import {IDatasetRegistry} from "./interfaces/IDatasetRegistry.sol";
import {IIdentitySBT} from "./interfaces/IIdentitySBT.sol";
import {CosTypes} from "./libraries/CosTypes.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title DatasetRegistry
 * @notice Each encrypted dataset is an ERC-721 token owned by a steward (an identity holder attested as steward).
 * The record holds only commitments and pointers: the digest of the ciphertext manifest, the resource URI, the FHE
 * parameter hash, the fingerprint of the owner's public FHE key, the DUO consent codes the data allows, a version,
 * and the Merkle root of the donors' consent commitments. Donors withdraw and restore consent by proving their leaf;
 * stewards and the orchestrator exclude withdrawn donors' records from every later use.
 *
 * ERC-2981 royalty info names where the owner's share of fees goes (the settlement pays it there) and the
 * dataset's suggested royalty fraction.
 */
contract DatasetRegistry is IDatasetRegistry, ERC721, ERC2981, Ownable2Step {
    /// @notice What a steward registers.
    struct DatasetInput {
        bytes32 manifestCommitment;
        string resourceURI;
        bytes32 fheParamsHash;
        bytes32 fheKeyFingerprint;
        uint64 consentCodes;
        bytes32 consentRoot;
        uint32 donorCount;
        address royaltyReceiver;
        uint96 royaltyBps;
    }

    /// @notice What a new version replaces (the donor set is fixed: a new cohort is a new dataset).
    struct DatasetUpdate {
        bytes32 manifestCommitment;
        string resourceURI;
        bytes32 fheParamsHash;
        bytes32 fheKeyFingerprint;
    }

    /// @notice A dataset as the app reads it.
    struct Dataset {
        address owner;
        bytes32 manifestCommitment;
        string resourceURI;
        bytes32 fheParamsHash;
        bytes32 fheKeyFingerprint;
        uint64 consentCodes;
        bytes32 consentRoot;
        uint32 donorCount;
        uint32 withdrawnCount;
        uint32 version;
        uint40 registeredAt;
        uint40 updatedAt;
    }

    struct Record {
        bytes32 manifestCommitment;
        bytes32 fheParamsHash;
        bytes32 fheKeyFingerprint;
        bytes32 consentRoot;
        // one slot:
        uint64 consentCodes;
        uint32 donorCount;
        uint32 withdrawnCount;
        uint32 version;
        uint40 registeredAt;
        uint40 updatedAt;
        string resourceURI;
    }

    IIdentitySBT private immutable _identity;
    IConsentHook private _consentHook;
    // Next dataset id; starts at 1 so that every increment rewrites a non-zero slot.
    uint256 private _nextDatasetId = 1;
    mapping(uint256 datasetId => Record) private _records;
    mapping(uint256 datasetId => mapping(uint256 donorSbtId => bool)) private _withdrawn;

    /// @notice Dataset `datasetId` was registered by `owner`.
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

    /// @notice Dataset `datasetId` moved to `version` (re-encrypted, moved, or new parameters).
    event DatasetUpdated(
        uint256 indexed datasetId,
        uint32 version,
        bytes32 manifestCommitment,
        bytes32 fheParamsHash,
        bytes32 fheKeyFingerprint,
        string resourceURI
    );

    /// @notice The ERC-2981 royalty of `datasetId` was set.
    event DatasetRoyaltySet(uint256 indexed datasetId, address receiver, uint96 royaltyBps);

    /// @notice Donor `donorSbtId` withdrew consent for `datasetId`.
    event ConsentWithdrawn(uint256 indexed datasetId, uint256 indexed donorSbtId);

    /// @notice Donor `donorSbtId` restored consent for `datasetId`.
    event ConsentRestored(uint256 indexed datasetId, uint256 indexed donorSbtId);

    /// @notice The contract told of consent changes was set (once).
    event ConsentHookSet(address hook);

    error DatasetRegistryNotSteward(address account);
    error DatasetRegistryNotDatasetOwner(uint256 datasetId, address account);
    error DatasetRegistryUnknownDataset(uint256 datasetId);
    error DatasetRegistryInvalidCommitment();
    error DatasetRegistryInvalidURI();
    error DatasetRegistryInvalidConsentRoot();
    error DatasetRegistryNotDonorHolder(uint256 donorSbtId, address account);
    error DatasetRegistryInvalidDonorProof(uint256 datasetId, uint256 donorSbtId);
    error DatasetRegistryConsentAlreadyWithdrawn(uint256 datasetId, uint256 donorSbtId);
    error DatasetRegistryConsentNotWithdrawn(uint256 datasetId, uint256 donorSbtId);
    error DatasetRegistryHookAlreadySet();
    error DatasetRegistryInvalidHook();

    /**
     * @notice Deploys the registry over `identity_`; dataset ids start at 1.
     * @param identity_ The identity SBT whose steward attestations gate registration and transfers.
     * @param admin Owner of this contract (sets the consent hook once).
     */
    constructor(IIdentitySBT identity_, address admin) ERC721("COS Dataset", "COSDS") Ownable(admin) {
        _identity = identity_;
    }

    // ---------------------------------------------------------------- registration

    /**
     * @notice Registers a dataset and mints its token to the caller.
     *
     * Requirements:
     * - the caller holds an identity token attested as steward;
     * - the manifest commitment, FHE parameter hash and FHE key fingerprint are not zero;
     * - the resource URI is not empty and at most CosTypes.MAX_URI_LENGTH bytes;
     * - the consent root is not zero when there are donors;
     * - the royalty fraction is at most 100 % (royalty receiver 0 means the caller).
     *
     * Emits DatasetRegistered, DatasetRoyaltySet and Transfer.
     */
    function registerDataset(DatasetInput calldata input) external returns (uint256 datasetId) {
        _requireSteward(msg.sender);
        _validateContent(input.manifestCommitment, input.resourceURI, input.fheParamsHash, input.fheKeyFingerprint);
        if (input.donorCount != 0 && input.consentRoot == bytes32(0)) revert DatasetRegistryInvalidConsentRoot();
        datasetId = _nextDatasetId++;
        Record storage record = _records[datasetId];
        record.manifestCommitment = input.manifestCommitment;
        record.fheParamsHash = input.fheParamsHash;
        record.fheKeyFingerprint = input.fheKeyFingerprint;
        record.consentRoot = input.consentRoot;
        record.consentCodes = input.consentCodes;
        record.donorCount = input.donorCount;
        record.version = 1;
        record.registeredAt = uint40(block.timestamp);
        record.updatedAt = uint40(block.timestamp);
        record.resourceURI = input.resourceURI;
        address receiver = input.royaltyReceiver == address(0) ? msg.sender : input.royaltyReceiver;
        _setTokenRoyalty(datasetId, receiver, input.royaltyBps);
        _mint(msg.sender, datasetId);
        emit DatasetRegistered(
            datasetId,
            msg.sender,
            input.manifestCommitment,
            input.fheParamsHash,
            input.fheKeyFingerprint,
            input.consentCodes,
            input.consentRoot,
            input.donorCount,
            input.resourceURI
        );
        emit DatasetRoyaltySet(datasetId, receiver, input.royaltyBps);
    }

    /**
     * @notice Publishes a new version of `datasetId` (same donors, new ciphertexts, location or parameters).
     *
     * Requirements:
     * - the caller owns `datasetId`;
     * - the same content rules as registration.
     *
     * Emits DatasetUpdated.
     */
    function updateDataset(uint256 datasetId, DatasetUpdate calldata update) external {
        _requireDatasetOwner(datasetId);
        _validateContent(update.manifestCommitment, update.resourceURI, update.fheParamsHash, update.fheKeyFingerprint);
        Record storage record = _records[datasetId];
        record.manifestCommitment = update.manifestCommitment;
        record.fheParamsHash = update.fheParamsHash;
        record.fheKeyFingerprint = update.fheKeyFingerprint;
        record.resourceURI = update.resourceURI;
        uint32 version = ++record.version;
        record.updatedAt = uint40(block.timestamp);
        emit DatasetUpdated(
            datasetId,
            version,
            update.manifestCommitment,
            update.fheParamsHash,
            update.fheKeyFingerprint,
            update.resourceURI
        );
    }

    /**
     * @notice Sets where the owner's share of fees for `datasetId` is paid and its suggested royalty fraction.
     *
     * Requirements:
     * - the caller owns `datasetId`;
     * - `receiver` is not the zero address and `royaltyBps` is at most 10,000.
     *
     * Emits DatasetRoyaltySet.
     */
    function setDatasetRoyalty(uint256 datasetId, address receiver, uint96 royaltyBps) external {
        _requireDatasetOwner(datasetId);
        _setTokenRoyalty(datasetId, receiver, royaltyBps);
        emit DatasetRoyaltySet(datasetId, receiver, royaltyBps);
    }

    // ---------------------------------------------------------------- donor consent

    /**
     * @notice Withdraws donor `donorSbtId`'s consent for `datasetId`: later jobs must exclude the donor's records.
     *
     * Requirements:
     * - the caller holds `donorSbtId`;
     * - (`donorSbtId`, `consentCommitment`) is a leaf of the dataset's consent tree, shown by `proof`;
     * - consent is not already withdrawn.
     *
     * Emits ConsentWithdrawn.
     */
    function withdrawConsent(uint256 datasetId, uint256 donorSbtId, bytes32 consentCommitment, bytes32[] calldata proof)
        external
    {
        _requireDonor(datasetId, donorSbtId, consentCommitment, proof);
        if (_withdrawn[datasetId][donorSbtId]) {
            revert DatasetRegistryConsentAlreadyWithdrawn(datasetId, donorSbtId);
        }
        _withdrawn[datasetId][donorSbtId] = true;
        ++_records[datasetId].withdrawnCount;
        emit ConsentWithdrawn(datasetId, donorSbtId);
        _notifyConsentHook(datasetId, donorSbtId, true);
    }

    /**
     * @notice Restores donor `donorSbtId`'s consent for `datasetId`.
     *
     * Requirements:
     * - the caller holds `donorSbtId`;
     * - (`donorSbtId`, `consentCommitment`) is a leaf of the dataset's consent tree, shown by `proof`;
     * - consent is withdrawn.
     *
     * Emits ConsentRestored.
     */
    function restoreConsent(uint256 datasetId, uint256 donorSbtId, bytes32 consentCommitment, bytes32[] calldata proof)
        external
    {
        _requireDonor(datasetId, donorSbtId, consentCommitment, proof);
        if (!_withdrawn[datasetId][donorSbtId]) revert DatasetRegistryConsentNotWithdrawn(datasetId, donorSbtId);
        _withdrawn[datasetId][donorSbtId] = false;
        --_records[datasetId].withdrawnCount;
        emit ConsentRestored(datasetId, donorSbtId);
        _notifyConsentHook(datasetId, donorSbtId, false);
    }

    /**
     * @notice Sets, once, the contract told of consent changes (the settlement).
     *
     * Requirements:
     * - the caller is the owner; no hook was set before; `hook` is a contract.
     *
     * Emits ConsentHookSet.
     */
    function setConsentHook(IConsentHook hook) external onlyOwner {
        if (address(_consentHook) != address(0)) revert DatasetRegistryHookAlreadySet();
        if (address(hook).code.length == 0) revert DatasetRegistryInvalidHook();
        _consentHook = hook;
        emit ConsentHookSet(address(hook));
    }

    // ---------------------------------------------------------------- views

    /// @notice The dataset record. Reverts with DatasetRegistryUnknownDataset if it does not exist.
    function dataset(uint256 datasetId) external view returns (Dataset memory) {
        address owner = _requireDataset(datasetId);
        Record storage record = _records[datasetId];
        return Dataset({
            owner: owner,
            manifestCommitment: record.manifestCommitment,
            resourceURI: record.resourceURI,
            fheParamsHash: record.fheParamsHash,
            fheKeyFingerprint: record.fheKeyFingerprint,
            consentCodes: record.consentCodes,
            consentRoot: record.consentRoot,
            donorCount: record.donorCount,
            withdrawnCount: record.withdrawnCount,
            version: record.version,
            registeredAt: record.registeredAt,
            updatedAt: record.updatedAt
        });
    }

    /// @notice How many datasets were registered; ids run from 1 to this.
    function datasetCount() external view returns (uint256) {
        return _nextDatasetId - 1;
    }

    /// @inheritdoc IDatasetRegistry
    function datasetOwner(uint256 datasetId) external view returns (address) {
        return _ownerOf(datasetId);
    }

    /// @inheritdoc IDatasetRegistry
    function royaltyReceiver(uint256 datasetId) external view returns (address receiver) {
        (receiver,) = royaltyInfo(datasetId, CosTypes.BPS);
        if (receiver == address(0)) receiver = _ownerOf(datasetId);
    }

    /// @inheritdoc IDatasetRegistry
    function activeDonorCount(uint256 datasetId) external view returns (uint256) {
        Record storage record = _records[datasetId];
        return record.donorCount - record.withdrawnCount;
    }

    /// @inheritdoc IDatasetRegistry
    function isConsentWithdrawn(uint256 datasetId, uint256 donorSbtId) external view returns (bool) {
        return _withdrawn[datasetId][donorSbtId];
    }

    /// @inheritdoc IDatasetRegistry
    function verifyDonor(uint256 datasetId, uint256 donorSbtId, bytes32 consentCommitment, bytes32[] calldata proof)
        public
        view
        returns (bool)
    {
        bytes32 root = _records[datasetId].consentRoot;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, donorLeaf(donorSbtId, consentCommitment));
    }

    /// @notice The consent-tree leaf of a donor: keccak256(bytes.concat(keccak256(abi.encode(sbtId, commitment)))).
    function donorLeaf(uint256 donorSbtId, bytes32 consentCommitment) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(donorSbtId, consentCommitment))));
    }

    /// @notice The identity contract this registry checks steward attestations against.
    function identity() external view returns (IIdentitySBT) {
        return _identity;
    }

    /// @notice The contract told of consent changes.
    function consentHook() external view returns (IConsentHook) {
        return _consentHook;
    }

    /// @notice The dataset's resource URI (where its encrypted manifest lives).
    function tokenURI(uint256 datasetId) public view override returns (string memory) {
        _requireDataset(datasetId);
        return _records[datasetId].resourceURI;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev A dataset only ever belongs to a steward: transfers to anyone else revert.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0)) _requireSteward(to);
    }

    function _requireSteward(address account) private view {
        (uint256 sbtId, uint16 roles) = _identity.rolesOf(account);
        if (sbtId == 0 || roles & CosTypes.ROLE_STEWARD == 0) revert DatasetRegistryNotSteward(account);
    }

    function _requireDataset(uint256 datasetId) private view returns (address owner) {
        owner = _ownerOf(datasetId);
        if (owner == address(0)) revert DatasetRegistryUnknownDataset(datasetId);
    }

    function _requireDatasetOwner(uint256 datasetId) private view {
        if (_requireDataset(datasetId) != msg.sender) revert DatasetRegistryNotDatasetOwner(datasetId, msg.sender);
    }

    function _requireDonor(uint256 datasetId, uint256 donorSbtId, bytes32 consentCommitment, bytes32[] calldata proof)
        private
        view
    {
        _requireDataset(datasetId);
        (address holder,,) = _identity.identityOf(donorSbtId);
        if (holder != msg.sender) revert DatasetRegistryNotDonorHolder(donorSbtId, msg.sender);
        if (!verifyDonor(datasetId, donorSbtId, consentCommitment, proof)) {
            revert DatasetRegistryInvalidDonorProof(datasetId, donorSbtId);
        }
    }

    function _validateContent(
        bytes32 manifestCommitment,
        string calldata resourceURI,
        bytes32 fheParamsHash,
        bytes32 fheKeyFingerprint
    ) private pure {
        if (manifestCommitment == bytes32(0) || fheParamsHash == bytes32(0) || fheKeyFingerprint == bytes32(0)) {
            revert DatasetRegistryInvalidCommitment();
        }
        uint256 length = bytes(resourceURI).length;
        if (length == 0 || length > CosTypes.MAX_URI_LENGTH) revert DatasetRegistryInvalidURI();
    }

    function _notifyConsentHook(uint256 datasetId, uint256 donorSbtId, bool withdrawn) private {
        IConsentHook hook = _consentHook;
        if (address(hook) != address(0)) hook.onConsentChanged(datasetId, donorSbtId, withdrawn);
    }
}
