package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.VxlanLeaseData;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.testing.Hosts;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our vxlan node in one namespace, the kernel's VXLAN device set up exactly as flanneld sets up
 * {@code flannel.1} in the other: ping and iperf3 both ways over a veth with the kernel's default
 * offloads, and, with transmit checksum offload off, tshark on the underlay decodes our datagrams
 * as flannel's VXLAN.
 */
class VxlanInteropTest {
    static final NetConf VXLAN = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");

    /** Our node on host 1, the kernel's flannel.1 on host 2, each configured with the other as its peer. */
    private record Pair(Testbed.Host ours, Testbed.Host kernel, OverlayNode node, MacAddress ourMac, MacAddress kernelMac) {}

    private static Pair pair(Testbed bed) throws Exception {
        Testbed.Host ours = bed.host(1);
        Testbed.Host kernel = bed.host(2);
        MacAddress kernelMac = bed.kernelVxlan(kernel);
        OverlayNode node = bed.start(ours, bed.config(ours, VXLAN));
        node.addPeer(Lease.vxlan(kernel.subnet(), kernel.address(), new VxlanLeaseData(1, kernelMac)));
        MacAddress ourMac = node.localLease().vxlan().vtepMac();
        bed.kernelVxlanPeer(kernel, ours, ourMac);
        return new Pair(ours, kernel, node, ourMac, kernelMac);
    }

    /**
     * On a veth with the kernel's default offloads flannel.1 sends inner TCP and UDP checksums
     * partial (the pseudo-header sum): TCP in both directions shows our node hands them to its TUN
     * as the kernel deferred them.
     */
    @Test
    void ourVtepAndFlannel1CarryPingAndTcpBothWaysOnADefaultVeth() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Pair p = pair(bed);
            OverlayNode node = p.node();
            assertDeviceAsFlannelMakesIt(p.ours(), node);
            Traffic.assertPings(p.ours(), p.kernel(), 4);
            Traffic.assertPings(p.kernel(), p.ours(), 4);

            double up = Traffic.iperf3(p.ours(), p.kernel(), Traffic.TCP_SECONDS, false);
            NodeStats beforeDown = node.stats();
            long joinedBefore = node.segmentsJoined();
            double down = Traffic.iperf3(p.ours(), p.kernel(), Traffic.TCP_SECONDS, true);
            NodeStats afterDown = node.stats();
            System.out.printf("vxlan interop on a default veth, TCP %d s: ours -> kernel %.2f Gbit/s, kernel -> ours %.2f Gbit/s"
                    + " (noisy shared machine)%n", Traffic.TCP_SECONDS, up / 1e9, down / 1e9);
            assertTrue(up > 10e6, "TCP ours -> kernel: " + up + " bit/s");
            assertTrue(down > 10e6, "TCP kernel -> ours: " + down + " bit/s");
            // Offload is on by default: our TCP left as super-packets cut by UDP GSO, which flannel.1 took as
            // plain VXLAN datagrams. The kernel hands the veth its TCP super-packets whole, and our TUN took
            // them whole (more bytes a packet than the MTU), or its segments joined again.
            assertTrue(node.superPacketsSent() > 0, "no TSO super-packet sent to the kernel's VTEP");
            long packets = afterDown.ingressPackets() - beforeDown.ingressPackets();
            long bytes = afterDown.ingressBytes() - beforeDown.ingressBytes();
            assertTrue(bytes > packets * node.tunMtu() || node.segmentsJoined() > joinedBefore,
                    "the kernel's TCP came neither whole nor joined: " + packets + " packets, " + bytes + " bytes");
            // Our socket receives with UDP GRO, and the kernel gives its TCP super-packets no GRO size:
            // they came up whole, told from trains, and flannel.1 sends no trains.
            System.out.printf("from flannel.1: whole super-packets %d, trains %s%n", ReceiveOffloadNodesTest.wholeSuperPackets(node),
                    java.util.Arrays.toString(node.trainsReceived()));
            assertTrue(ReceiveOffloadNodesTest.wholeSuperPackets(node) > 0, "no whole super-packet taken from flannel.1");

            NodeStats stats = node.stats();
            assertTrue(stats.egressPackets() > 1000 && stats.ingressPackets() > 1000, stats.toString());
            node.close();
            assertEquals(0, node.buffersInUse(), "buffers still out after close");
            assertFalse(linkExists(p.ours(), "flannel.1"), "the TUN must be gone after close");
            assertEquals(List.of(), log.problems());
        }
    }

    /**
     * A pod behind flannel.1 that sends one UDP message cut by the kernel ({@code UDP_SEGMENT}, as
     * QUIC stacks send): flannel.1 hands the veth the whole UDP super-packet, our socket (UDP GRO)
     * gets it with the inner datagrams' size as its GRO size, and the node tells it from a train and
     * writes it into the TUN whole, which cuts it where the sender did: the pod receives the
     * datagrams the other pod sent.
     */
    @Test
    void aUdpSuperPacketFromFlannel1ReachesThePodAsTheDatagramsSent(@TempDir Path dir) throws Exception {
        Prerequisites.program("gcc");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Path source = dir.resolve("udp_segments.c");
            try (InputStream in = VxlanInteropTest.class.getResourceAsStream("udp_segments.c")) {
                Files.copy(in, source);
            }
            Path program = dir.resolve("udp_segments");
            Tool gcc = Tool.run(Duration.ofSeconds(60), "gcc", "-O2", "-Wall", "-o", program.toString(), source.toString());
            assertEquals(0, gcc.exitCode(), gcc.output());
            Pair p = pair(bed);
            OverlayNode node = p.node();
            Traffic.assertPings(p.kernel(), p.ours(), 2);
            int segment = 1000;
            int count = 8;
            Tool receiver = bed.startTool(p.ours(), program.toString(), "recv", p.ours().podText(), "5301", String.valueOf(count), "5000");
            receiver.awaitStdout("ready", Duration.ofSeconds(10));
            long wholeBefore = ReceiveOffloadNodesTest.wholeSuperPackets(node);
            Tool sender = Tool.run(Duration.ofSeconds(10), p.kernel().exec(program.toString(), "send", p.kernel().podText(),
                    p.ours().podText(), "5301", String.valueOf(segment), String.valueOf(count)));
            assertEquals(0, sender.exitCode(), sender.output());
            assertTrue(receiver.await(Duration.ofSeconds(10)), receiver.output());
            assertEquals(0, receiver.exitCode(), receiver.output());
            List<String> got = receiver.stdout().lines().skip(1).toList();
            List<String> sent = new java.util.ArrayList<>();
            for (int i = 1; i <= count; i++) sent.add(segment + " " + i + " " + i);
            assertEquals(sent, got, "the datagrams as the pod sent them");
            assertEquals(wholeBefore + 1, ReceiveOffloadNodesTest.wholeSuperPackets(node), "one whole UDP super-packet");
            assertEquals(0, node.stats().droppedTotal(), node.stats().toString());
            assertEquals(List.of(), log.problems());
        }
    }

    /**
     * With transmit checksum offload off on the underlay the checksums on the wire are the real
     * ones: tshark decodes what leaves our side as flannel's VXLAN, outer UDP and inner ICMP
     * checksums valid.
     */
    @Test
    void tsharkSeesOurFramesAsFlannelsVxlanWithTxChecksumOff() throws Exception {
        try (Testbed bed = Testbed.hosts(2).txChecksumOff(); LogWatch log = new LogWatch()) {
            Pair p = pair(bed);
            Testbed.Host ours = p.ours();
            Testbed.Host kernel = p.kernel();
            Tool tshark = bed.startTool(ours, "tshark", "-i", ours.underlay(), "-n", "-l", "-c", "4",
                    "-f", "udp dst port 8472 and src host " + ours.addressText(),
                    "-d", "udp.port==8472,vxlan", "-o", "udp.check_checksum:TRUE",
                    "-T", "fields", "-E", "separator=;",
                    "-e", "udp.dstport", "-e", "udp.checksum.status", "-e", "vxlan.flags", "-e", "vxlan.vni",
                    "-e", "eth.src", "-e", "eth.dst", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type", "-e", "icmp.checksum.status");
            tshark.awaitStderr("Capturing on", Duration.ofSeconds(20));
            // tshark says it captures a moment before it does: ping until it has its frames.
            for (int i = 0; i < 20 && !tshark.await(Duration.ofMillis(200)); i++) Traffic.ping(ours, kernel, 2, 0.05);
            assertTrue(tshark.await(Duration.ofSeconds(5)), tshark.output());
            Traffic.assertPings(ours, kernel, 4);
            Traffic.assertPings(kernel, ours, 4);
            List<String> frames = tshark.stdout().lines().toList();
            assertEquals(4, frames.size(), tshark.output());
            for (String frame : frames) {
                String[] f = frame.split(";", -1);
                assertEquals("8472", f[0], frame);
                assertEquals("1", f[1], "outer UDP checksum must be present and valid: " + frame);
                assertEquals("0x0800", f[2], "VXLAN flags: the I bit only: " + frame);
                assertEquals("1", f[3], "VNI: " + frame);
                // Outer Ethernet is the veth's; the inner is ours -> the peer's VTEP.
                assertEquals(p.ourMac().toString(), last(f[4]), "inner source MAC: " + frame);
                assertEquals(p.kernelMac().toString(), last(f[5]), "inner destination MAC: " + frame);
                assertEquals(ours.addressText() + "," + ours.podText(), f[6], "outer and inner source: " + frame);
                assertEquals(kernel.addressText() + "," + kernel.podText(), f[7], "outer and inner destination: " + frame);
                assertEquals("8", f[8], "inner ICMP echo request: " + frame);
                assertEquals("1", f[9], "inner ICMP checksum must be valid: " + frame);
            }
            assertEquals(List.of(), log.problems());
        }
    }

    private static String last(String commaList) {
        String[] parts = commaList.split(",");
        return parts[parts.length - 1];
    }

    /** flannel's device: the subnet's network address as a /32, MTU = 1500 - 50, up, the Network routed through it. */
    static void assertDeviceAsFlannelMakesIt(Testbed.Host host, OverlayNode node) throws Exception {
        String dev = node.tunName();
        JsonNode link = Hosts.json("ip", "-j", "-n", host.name(), "addr", "show", "dev", dev).get(0);
        int overhead = node.backendType().overhead();
        assertEquals(1500 - overhead, link.get("mtu").asInt(), link.toString());
        assertEquals(1500 - overhead, node.tunMtu());
        assertEquals(1500, node.underlayMtu());
        assertEquals(PacketPathOptions.DEFAULT_TUN_QUEUE_LENGTH, link.get("txqlen").asInt(), link.toString());
        assertEquals(host.underlay(), node.underlayInterface());
        assertTrue(link.get("flags").toString().contains("\"UP\""), link.toString());
        JsonNode addrs = link.get("addr_info"); // IPv4 only: no IPv6 link-local either
        assertEquals(1, addrs.size(), addrs.toString());
        assertEquals(Ipv4Address.toString(host.vtep()), addrs.get(0).get("local").asText());
        assertEquals(32, addrs.get(0).get("prefixlen").asInt());
        boolean routed = false;
        for (JsonNode r : Hosts.json("ip", "-j", "-n", host.name(), "route", "show", "dev", dev)) {
            if (r.get("dst").asText().equals("10.244.0.0/16")) routed = true;
        }
        assertTrue(routed, "route 10.244.0.0/16 dev " + dev);
    }

    static boolean linkExists(Testbed.Host host, String dev) throws Exception {
        return Hosts.runAnyway("ip", "-n", host.name(), "link", "show", "dev", dev).exitCode() == 0;
    }
}
