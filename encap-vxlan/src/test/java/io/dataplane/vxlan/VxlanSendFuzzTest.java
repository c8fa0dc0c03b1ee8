package io.dataplane.vxlan;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.tun.testing.SendFuzzing;

/**
 * The vxlan tunnel's send path under any sequence of TUN reads (any virtio_net_hdr, TCP
 * super-packets among them): see {@link SendFuzzing} for the script and what is checked.
 */
class VxlanSendFuzzTest {
    @FuzzTest
    void send(byte[] input) {
        SendFuzzing.run(VxlanFuzzing.TUNNEL, input);
    }
}
