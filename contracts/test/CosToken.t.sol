// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CosToken} from "../src/CosToken.sol";
import {CosFixture} from "./utils/CosFixture.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract CosTokenTest is CosFixture {
    function test_mint_ownerOnly() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        token.mint(stranger, 1);
        assertEq(token.symbol(), "COS", "symbol");
        assertEq(token.decimals(), 18, "decimals");
    }

    function test_drip_disabledWhenTheFaucetAmountIsZero() public {
        vm.expectRevert(CosToken.CosTokenFaucetDisabled.selector);
        vm.prank(stranger);
        token.drip();
    }

    function test_drip_oncePerDayPerAccount() public {
        CosToken faucet = new CosToken(admin, 100 ether);
        vm.prank(stranger);
        faucet.drip();
        assertEq(faucet.balanceOf(stranger), 100 ether, "dripped");
        assertEq(faucet.lastDrip(stranger), START, "lastDrip");
        vm.expectRevert(abi.encodeWithSelector(CosToken.CosTokenFaucetCooldown.selector, START + 1 days));
        vm.prank(stranger);
        faucet.drip();
        vm.warp(START + 1 days);
        vm.prank(stranger);
        faucet.drip();
        assertEq(faucet.balanceOf(stranger), 200 ether, "again after a day");
        assertEq(faucet.faucetAmount(), 100 ether, "amount");
    }
}
