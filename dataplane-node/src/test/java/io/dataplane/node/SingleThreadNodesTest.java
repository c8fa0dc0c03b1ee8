package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.NetConf;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.testing.Prerequisites;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The single-thread packet path ({@link Pipeline.TunWriter#SINGLE_THREAD}, one thread per node
 * polling the real TUN and the real UDP socket together, busy polling for 200 us after the last packet) on two
 * of our nodes in their namespaces: ping and iperf3 TCP both ways for vxlan, udp, ipip (a raw IP socket) and wireguard (the
 * last also exercises handshake messages arriving on the polled socket), then every buffer back and
 * the thread gone at close.
 */
class SingleThreadNodesTest {
    private static final PacketPathOptions SINGLE = PacketPathOptions.defaults()
            .withTunWriter(Pipeline.TunWriter.SINGLE_THREAD).withBusyPollMicros(200);

    @Test
    void everyTunnelBackendCarriesPingAndTcpOnOneThreadPerNode() throws Exception {
        Prerequisites.program("iperf3");
        for (NetConf netConf : List.of(VxlanInteropTest.VXLAN, UdpNodesTest.UDP, IpipNodesTest.IPIP, WireGuardNodesTest.WIREGUARD)) {
            try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
                Testbed.Host a = bed.host(1);
                Testbed.Host b = bed.host(2);
                OverlayNode nodeA = bed.start(a, bed.config(a, netConf).withPacketPath(SINGLE));
                OverlayNode nodeB = bed.start(b, bed.config(b, netConf).withPacketPath(SINGLE));
                nodeA.addPeer(nodeB.localLease());
                nodeB.addPeer(nodeA.localLease());
                String what = netConf.backend().type() + " on one thread";

                Traffic.assertPings(a, b, 4);
                Traffic.assertPings(b, a, 4);
                double ab = Traffic.iperf3(a, b, 2, false);
                double ba = Traffic.iperf3(a, b, 2, true);
                System.out.printf("%s, TCP 2 s: a -> b %.0f Mbit/s, b -> a %.0f Mbit/s (noisy shared machine)%n", what, ab / 1e6, ba / 1e6);
                assertTrue(ab > 10e6, what + ", TCP a -> b: " + ab + " bit/s; a: " + nodeA.stats() + ", b: " + nodeB.stats());
                assertTrue(ba > 10e6, what + ", TCP b -> a: " + ba + " bit/s; a: " + nodeA.stats() + ", b: " + nodeB.stats());

                for (OverlayNode n : List.of(nodeA, nodeB)) {
                    NodeStats s = n.stats();
                    assertTrue(s.egressPackets() > 1000 && s.ingressPackets() > 1000, what + ": " + s);
                    n.close();
                    assertEquals(0, n.buffersInUse(), what + ": buffers still out after close");
                }
                assertEquals(List.of(), threadsNamed("dp-path-"), what + ": the packet-path thread must be gone after close");
                assertEquals(List.of(), log.problems(), what);
            }
        }
    }

    private static List<String> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).filter(n -> n.startsWith(prefix)).toList();
    }
}
