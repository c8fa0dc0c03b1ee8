package io.dataplane.wireguard;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.tun.testing.SendFuzzing;
import io.dataplane.tun.testing.TunnelUnderTest;

/**
 * WireGuard's send path under any sequence of TUN reads (any virtio_net_hdr, TCP super-packets
 * among them), a live session with the real peer: a super-packet is cut and each segment sealed in
 * place into a train, which the transport sends with the real {@code SegmentBatch.sendTrain} (UDP
 * GSO) over loopback. See {@link SendFuzzing} for the script and what is checked; here each
 * datagram sent also opens with the peer's session, to a plaintext zero-padded as WireGuard pads,
 * and its counter is above every one sent before ({@link WireGuardFuzzing}); the session stays and
 * the pair's buffers come back.
 */
class WireGuardSendFuzzTest {
    private static final WireGuardFuzzing WG = new WireGuardFuzzing();
    private static final TunnelUnderTest TUNNEL = WG.sending();

    @FuzzTest
    void send(byte[] input) {
        SendFuzzing.run(TUNNEL, input);
        WG.settled();
    }
}
