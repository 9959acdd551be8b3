// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Stipend testkit: a TIP-1034 channel escrow written from its published interface (the ABI
// mppx ships as `tip20ChannelEscrow`) and the tempo/session spec. It is placed with
// `anvil_setCode` at the precompile address 0x4d50500000000000000000000000000000000000 of
// `anvil --network tempo`, which has no code there. It is a stand-in for the Tempo node's
// precompile, NOT that precompile. Two differences, both forced by running as EVM code:
//
// 1. Transaction context. The precompile reads the expiring-nonce hash of the transaction
//    that calls `open` from the node. EVM code cannot see its own transaction envelope, so
//    the testkit's RPC transport computes the hash from the raw transaction it broadcasts
//    (keccak256(encodeForSigning(tx) || sender)) and writes it into `pendingNonceHash[sender]`
//    with `anvil_setStorageAt` just before sending it. `open` consumes it.
// 2. Token pull. The precompile moves TIP-20 tokens by protocol privilege. This contract
//    uses `transferFrom`, so the payer approves this address once (testkit setup).

interface ITip20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

contract ChannelEscrow {
    struct ChannelDescriptor {
        address payer;
        address payee;
        address operator;
        address token;
        bytes32 salt;
        address authorizedSigner;
        bytes32 expiringNonceHash;
    }

    struct ChannelState {
        uint96 settled;
        uint96 deposit;
        uint32 closeRequestedAt;
    }

    struct Channel {
        ChannelDescriptor descriptor;
        ChannelState state;
    }

    // Storage slot 0: written by the testkit transport, see the note above.
    mapping(address => bytes32) public pendingNonceHash;
    // Slot 1: live channel states. Slot 2: ids that were ever opened (never reopened).
    mapping(bytes32 => ChannelState) internal states;
    mapping(bytes32 => bool) internal used;

    uint64 public constant CLOSE_GRACE_PERIOD = 900;
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint96 cumulativeAmount)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    uint256 internal constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        address operator,
        address token,
        address authorizedSigner,
        bytes32 salt,
        bytes32 expiringNonceHash,
        uint96 deposit
    );
    event Settled(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        uint96 cumulativeAmount,
        uint96 deltaPaid,
        uint96 newSettled
    );
    event TopUp(
        bytes32 indexed channelId, address indexed payer, address indexed payee, uint96 additionalDeposit, uint96 newDeposit
    );
    event CloseRequested(bytes32 indexed channelId, address indexed payer, address indexed payee, uint256 closeGraceEnd);
    event ChannelClosed(
        bytes32 indexed channelId, address indexed payer, address indexed payee, uint96 settledToPayee, uint96 refundedToPayer
    );
    event CloseRequestCancelled(bytes32 indexed channelId, address indexed payer, address indexed payee);

    function open(address payee, address operator, address token, uint96 deposit, bytes32 salt, address authorizedSigner)
        external
        returns (bytes32 channelId)
    {
        require(payee != address(0), "payee is zero");
        require(token != address(0), "token is zero");
        require(deposit > 0, "deposit is zero");
        bytes32 nonceHash = pendingNonceHash[msg.sender];
        delete pendingNonceHash[msg.sender];
        channelId = computeChannelId(msg.sender, payee, operator, token, salt, authorizedSigner, nonceHash);
        require(!used[channelId], "channel exists");
        used[channelId] = true;
        states[channelId] = ChannelState({settled: 0, deposit: deposit, closeRequestedAt: 0});
        pull(token, msg.sender, deposit);
        emit ChannelOpened(channelId, msg.sender, payee, operator, token, authorizedSigner, salt, nonceHash, deposit);
    }

    function settle(ChannelDescriptor calldata d, uint96 cumulativeAmount, bytes calldata signature) external {
        bytes32 id = idOf(d);
        ChannelState storage s = live(id);
        requirePayeeSide(d);
        require(cumulativeAmount > s.settled, "nothing to settle");
        require(cumulativeAmount <= s.deposit, "voucher above deposit");
        requireVoucher(d, id, cumulativeAmount, signature);
        uint96 delta = cumulativeAmount - s.settled;
        s.settled = cumulativeAmount;
        push(d.token, d.payee, delta);
        emit Settled(id, d.payer, d.payee, cumulativeAmount, delta, cumulativeAmount);
    }

    function topUp(ChannelDescriptor calldata d, uint96 additionalDeposit) external {
        bytes32 id = idOf(d);
        ChannelState storage s = live(id);
        require(msg.sender == d.payer, "only the payer tops up");
        require(additionalDeposit > 0, "top-up is zero");
        s.deposit += additionalDeposit;
        pull(d.token, msg.sender, additionalDeposit);
        emit TopUp(id, d.payer, d.payee, additionalDeposit, s.deposit);
        if (s.closeRequestedAt != 0) {
            s.closeRequestedAt = 0;
            emit CloseRequestCancelled(id, d.payer, d.payee);
        }
    }

    function close(ChannelDescriptor calldata d, uint96 cumulativeAmount, uint96 captureAmount, bytes calldata signature)
        external
    {
        bytes32 id = idOf(d);
        ChannelState memory s = live(id);
        requirePayeeSide(d);
        require(captureAmount >= s.settled, "capture below settled");
        require(captureAmount <= cumulativeAmount, "capture above voucher");
        require(captureAmount <= s.deposit, "capture above deposit");
        if (captureAmount > s.settled) requireVoucher(d, id, cumulativeAmount, signature);
        delete states[id];
        uint96 delta = captureAmount - s.settled;
        uint96 refund = s.deposit - captureAmount;
        if (delta > 0) push(d.token, d.payee, delta);
        if (refund > 0) push(d.token, d.payer, refund);
        emit ChannelClosed(id, d.payer, d.payee, captureAmount, refund);
    }

    function requestClose(ChannelDescriptor calldata d) external {
        bytes32 id = idOf(d);
        ChannelState storage s = live(id);
        require(msg.sender == d.payer, "only the payer requests a close");
        require(s.closeRequestedAt == 0, "close already requested");
        s.closeRequestedAt = uint32(block.timestamp);
        emit CloseRequested(id, d.payer, d.payee, block.timestamp + CLOSE_GRACE_PERIOD);
    }

    function withdraw(ChannelDescriptor calldata d) external {
        bytes32 id = idOf(d);
        ChannelState memory s = live(id);
        require(msg.sender == d.payer, "only the payer withdraws");
        require(s.closeRequestedAt != 0, "no close requested");
        require(block.timestamp >= uint256(s.closeRequestedAt) + CLOSE_GRACE_PERIOD, "grace period running");
        delete states[id];
        uint96 refund = s.deposit - s.settled;
        if (refund > 0) push(d.token, d.payer, refund);
        emit ChannelClosed(id, d.payer, d.payee, s.settled, refund);
    }

    function getChannel(ChannelDescriptor calldata d) external view returns (Channel memory) {
        return Channel({descriptor: d, state: states[idOf(d)]});
    }

    function getChannelState(bytes32 channelId) external view returns (ChannelState memory) {
        return states[channelId];
    }

    function getChannelStatesBatch(bytes32[] calldata channelIds) external view returns (ChannelState[] memory out) {
        out = new ChannelState[](channelIds.length);
        for (uint256 i = 0; i < channelIds.length; i++) {
            out[i] = states[channelIds[i]];
        }
    }

    function computeChannelId(
        address payer,
        address payee,
        address operator,
        address token,
        bytes32 salt,
        address authorizedSigner,
        bytes32 expiringNonceHash
    ) public view returns (bytes32) {
        return keccak256(
            abi.encode(payer, payee, operator, token, salt, authorizedSigner, expiringNonceHash, address(this), block.chainid)
        );
    }

    function getVoucherDigest(bytes32 channelId, uint96 cumulativeAmount) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, cumulativeAmount));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("TIP20 Channel Reserve"), keccak256("1"), block.chainid, address(this)
            )
        );
    }

    function idOf(ChannelDescriptor calldata d) internal view returns (bytes32) {
        return computeChannelId(d.payer, d.payee, d.operator, d.token, d.salt, d.authorizedSigner, d.expiringNonceHash);
    }

    function live(bytes32 id) internal view returns (ChannelState storage s) {
        s = states[id];
        require(s.deposit > 0, "channel not found or closed");
    }

    function requirePayeeSide(ChannelDescriptor calldata d) internal view {
        require(msg.sender == d.payee || (d.operator != address(0) && msg.sender == d.operator), "only payee or operator");
    }

    function requireVoucher(ChannelDescriptor calldata d, bytes32 id, uint96 cumulativeAmount, bytes calldata sig)
        internal
        view
    {
        address expected = d.authorizedSigner == address(0) ? d.payer : d.authorizedSigner;
        require(recover(getVoucherDigest(id, cumulativeAmount), sig) == expected, "invalid voucher signature");
    }

    function recover(bytes32 digest, bytes calldata sig) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        if (sig.length == 65) {
            r = bytes32(sig[0:32]);
            s = bytes32(sig[32:64]);
            v = uint8(sig[64]);
            if (v < 27) v += 27;
        } else if (sig.length == 64) {
            r = bytes32(sig[0:32]);
            bytes32 vs = bytes32(sig[32:64]);
            s = vs & bytes32(0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff);
            v = uint8(uint256(vs) >> 255) + 27;
        } else {
            revert("bad signature length");
        }
        require(uint256(s) <= HALF_ORDER, "high-s signature");
        require(v == 27 || v == 28, "bad signature v");
        address signer = ecrecover(digest, v, r, s);
        require(signer != address(0), "bad signature");
        return signer;
    }

    function pull(address token, address from, uint96 amount) internal {
        require(ITip20(token).transferFrom(from, address(this), amount), "token pull failed");
    }

    function push(address token, address to, uint96 amount) internal {
        require(ITip20(token).transfer(to, amount), "token push failed");
    }
}
