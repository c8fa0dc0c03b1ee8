package io.dataplane.udp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.tun.testing.SendFuzzing;

/**
 * The udp tunnel's send path under any sequence of TUN reads (any virtio_net_hdr, TCP
 * super-packets among them): see {@link SendFuzzing} for the script and what is checked.
 */
class UdpSendFuzzTest {
    @FuzzTest
    void send(byte[] input) {
        SendFuzzing.run(UdpFuzzing.TUNNEL, input);
    }
}
