package io.dataplane.ipip;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.tun.testing.SendFuzzing;

/**
 * The ipip tunnel's send path under any sequence of TUN reads (any virtio_net_hdr, TCP
 * super-packets among them): see {@link SendFuzzing} for the script and what is checked.
 */
class IpipSendFuzzTest {
    @FuzzTest
    void send(byte[] input) {
        SendFuzzing.run(IpipFuzzing.TUNNEL, input);
    }
}
