package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.NetConf;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two of our udp nodes, one per namespace: ping and iperf3 TCP both ways, and tshark on the
 * underlay sees flannel's udp encapsulation, the raw inner IPv4 packet as the payload of UDP 8285.
 */
class UdpNodesTest {
    static final NetConf UDP = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}");

    @Test
    void twoUdpNodesCarryPingAndTcpBothWays() throws Exception {
        Testbed.assumeTool("iperf3");
        Testbed.assumeTool("tshark");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, bed.config(a, UDP));
            OverlayNode nodeB = bed.start(b, bed.config(b, UDP));
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"udp\"}", nodeA.localLease().toJson());
            assertEquals("flannel0", nodeA.tunName());
            VxlanInteropTest.assertDeviceAsFlannelMakesIt(a, nodeA);

            Tool tshark = bed.startTool(a, "tshark", "-i", a.underlay(), "-n", "-l", "-c", "4",
                    "-f", "udp port 8285 and src host " + a.addressText(),
                    "-d", "udp.port==8285,ip", "-o", "udp.check_checksum:TRUE",
                    "-T", "fields", "-E", "separator=;",
                    "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.checksum.status", "-e", "udp.length", "-e", "ip.src",
                    "-e", "ip.dst", "-e", "ip.len", "-e", "icmp.type", "-e", "icmp.checksum.status");
            tshark.awaitStderr("Capturing on", Duration.ofSeconds(20));
            for (int i = 0; i < 20 && !tshark.await(Duration.ofMillis(200)); i++) Traffic.ping(a, b, 2, 0.05);
            assertTrue(tshark.await(Duration.ofSeconds(5)), tshark.output());
            List<String> frames = tshark.stdout().lines().toList();
            assertEquals(4, frames.size(), tshark.output());
            for (String frame : frames) {
                String[] f = frame.split(";", -1);
                assertEquals("8285", f[0], "source port: " + frame);
                assertEquals("8285", f[1], "destination port: " + frame);
                assertEquals("1", f[2], "outer UDP checksum must be valid: " + frame);
                assertEquals(a.addressText() + "," + a.podText(), f[4], "outer and inner source: " + frame);
                assertEquals(b.addressText() + "," + b.podText(), f[5], "outer and inner destination: " + frame);
                // The whole payload is the inner packet: UDP length = 8 + inner total length.
                String[] lengths = f[6].split(",");
                assertEquals(Integer.parseInt(f[3]), 8 + Integer.parseInt(lengths[1]), "UDP payload is exactly the inner packet: " + frame);
                assertEquals("8", f[7], "inner ICMP echo request: " + frame);
                assertEquals("1", f[8], "inner ICMP checksum must be valid: " + frame);
            }

            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            Traffic.assertTcpBothWays(bed, a, b, "udp nodes");
            // Offload is on by default: TCP left the TUN as super-packets and arrived joined again.
            Traffic.assertOffloadCarried(List.of(nodeA, nodeB));

            for (OverlayNode n : List.of(nodeA, nodeB)) {
                NodeStats s = n.stats();
                assertTrue(s.egressPackets() > 1000 && s.ingressPackets() > 1000, s.toString());
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
            }
            assertFalse(VxlanInteropTest.linkExists(a, "flannel0"), "the TUN must be gone after close");
            assertFalse(VxlanInteropTest.linkExists(b, "flannel0"), "the TUN must be gone after close");
            assertEquals(List.of(), log.problems());
        }
    }
}
