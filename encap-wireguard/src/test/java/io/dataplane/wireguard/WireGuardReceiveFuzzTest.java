package io.dataplane.wireguard;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.tun.testing.ReceiveFuzzing;
import io.dataplane.tun.testing.TunnelUnderTest;

/**
 * WireGuard's receive path under any sequence of datagrams and GRO trains of messages the real
 * peer sealed (TCP runs among them), corrupted, cut, reordered, repeated and cut at other GRO
 * sizes, through the real {@link WireGuardDevice#decap} (a train opened message by message in
 * place), the ingress stage, the coalescer and the TUN writer. See {@link ReceiveFuzzing} for the
 * script and what is checked; here also: only messages as the peer sealed them reach the TUN, none
 * twice (the replay window), none as the peer sealed it refused as replayed or unauthentic unless
 * it is a repeat, the session stays and the pair's buffers come back.
 */
class WireGuardReceiveFuzzTest {
    private static final WireGuardFuzzing WG = new WireGuardFuzzing();
    private static final TunnelUnderTest TUNNEL = WG.receiving();

    @FuzzTest
    void receive(byte[] input) {
        WG.noneGoodRefused(ReceiveFuzzing.run(TUNNEL, input));
        WG.settled();
    }
}
