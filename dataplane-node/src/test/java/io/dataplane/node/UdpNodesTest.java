package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.NetConf;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two of our udp nodes, one per namespace: ping and iperf3 TCP both ways over a veth with the
 * kernel's default offloads, and, with transmit checksum offload off, tshark on the underlay sees
 * flannel's udp encapsulation, the raw inner IPv4 packet as the payload of UDP 8285.
 */
class UdpNodesTest {
    static final NetConf UDP = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}");

    /** Our udp nodes on hosts 1 and 2, each configured with the other's lease. */
    private static List<OverlayNode> nodes(Testbed bed) throws Exception {
        OverlayNode nodeA = bed.start(bed.host(1), bed.config(bed.host(1), UDP));
        OverlayNode nodeB = bed.start(bed.host(2), bed.config(bed.host(2), UDP));
        nodeA.addPeer(nodeB.localLease());
        nodeB.addPeer(nodeA.localLease());
        return List.of(nodeA, nodeB);
    }

    @Test
    void twoUdpNodesCarryPingAndTcpBothWaysOnADefaultVeth() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            List<OverlayNode> nodes = nodes(bed);
            OverlayNode nodeA = nodes.get(0);
            assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"udp\"}", nodeA.localLease().toJson());
            assertEquals("flannel0", nodeA.tunName());
            VxlanInteropTest.assertDeviceAsFlannelMakesIt(a, nodeA);

            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            double ab = Traffic.iperf3(a, b, Traffic.TCP_SECONDS, false);
            double ba = Traffic.iperf3(a, b, Traffic.TCP_SECONDS, true);
            System.out.printf("udp nodes, TCP %d s: a -> b %.0f Mbit/s, b -> a %.0f Mbit/s (noisy shared machine)%n", Traffic.TCP_SECONDS,
                    ab / 1e6, ba / 1e6);
            assertTrue(ab > 10e6, "TCP a -> b: " + ab + " bit/s");
            assertTrue(ba > 10e6, "TCP b -> a: " + ba + " bit/s");
            for (OverlayNode n : nodes) {
                // Offload is on by default: TCP left the TUN as super-packets and arrived joined again.
                assertTrue(n.superPacketsSent() > 0, "no TSO super-packet sent by " + n);
                assertTrue(n.segmentsJoined() > 0, "no received segments joined by " + n);
            }

            for (OverlayNode n : nodes) {
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

    /** With transmit checksum offload off the checksums on the wire are the real ones: tshark checks them. */
    @Test
    void tsharkSeesFlannelsUdpEncapsulationWithTxChecksumOff() throws Exception {
        try (Testbed bed = Testbed.hosts(2).txChecksumOff(); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            nodes(bed);
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
            Traffic.assertPings(b, a, 4);
            assertEquals(List.of(), log.problems());
        }
    }
}
