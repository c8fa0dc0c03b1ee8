package io.dataplane.vxlan;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.tun.testing.ReceiveFuzzing;

/**
 * The vxlan tunnel's receive path under any sequence of datagrams and GRO trains, TCP runs among
 * them: see {@link ReceiveFuzzing} for the script and what is checked.
 */
class VxlanReceiveFuzzTest {
    @FuzzTest
    void receive(byte[] input) {
        ReceiveFuzzing.run(VxlanFuzzing.TUNNEL, input);
    }
}
