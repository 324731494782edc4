// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title CosToken
 * @notice The ERC-20 utility token in which per-use fees are paid and royalties claimed. The owner mints; a test
 * network may also enable a rate-limited faucet (faucetAmount per account per day), disabled when 0.
 */
contract CosToken is ERC20, Ownable2Step {
    /// @notice Minimum time between two faucet drips to the same account.
    uint256 public constant FAUCET_COOLDOWN = 1 days;

    uint256 private immutable _faucetAmount;
    mapping(address account => uint256) private _lastDrip;

    /// @notice `account` received `amount` from the faucet.
    event FaucetDripped(address indexed account, uint256 amount);

    error CosTokenFaucetDisabled();
    error CosTokenFaucetCooldown(uint256 availableAt);

    /**
     * @notice Deploys the token with `admin` as owner and minter.
     * @param admin Owner: the only account that mints.
     * @param faucetAmount_ Tokens per faucet drip; 0 disables the faucet (real networks).
     */
    constructor(address admin, uint256 faucetAmount_) ERC20("COS Utility Token", "COS") Ownable(admin) {
        _faucetAmount = faucetAmount_;
    }

    /**
     * @notice Mints `amount` to `to`.
     *
     * Requirements:
     * - the caller is the owner; `to` is not the zero address.
     *
     * Emits Transfer.
     */
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /**
     * @notice Mints faucetAmount to the caller.
     *
     * Requirements:
     * - the faucet is enabled; the caller's last drip was at least FAUCET_COOLDOWN ago.
     *
     * Emits Transfer and FaucetDripped.
     */
    function drip() external {
        uint256 amount = _faucetAmount;
        if (amount == 0) revert CosTokenFaucetDisabled();
        uint256 last = _lastDrip[msg.sender];
        if (last != 0 && block.timestamp < last + FAUCET_COOLDOWN) {
            revert CosTokenFaucetCooldown(last + FAUCET_COOLDOWN);
        }
        _lastDrip[msg.sender] = block.timestamp;
        _mint(msg.sender, amount);
        emit FaucetDripped(msg.sender, amount);
    }

    /// @notice Tokens per faucet drip (0: faucet disabled).
    function faucetAmount() external view returns (uint256) {
        return _faucetAmount;
    }

    /// @notice When `account` last used the faucet (0: never).
    function lastDrip(address account) external view returns (uint256) {
        return _lastDrip[account];
    }
}
