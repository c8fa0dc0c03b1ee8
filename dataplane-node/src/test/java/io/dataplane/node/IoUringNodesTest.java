package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.core.config.NetConf;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.testing.IoUringDenial;
import io.dataplane.tun.testing.LogLines;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Our nodes with their TUN read and written through io_uring ({@link PacketPathOptions#ioUring()}),
 * in namespaces joined by a veth with the kernel's default offloads: ping, a ping flood with 32
 * requests in flight (batches of small packets each way) and iperf3 TCP both ways for vxlan and
 * udp, every buffer back at close. And a node started on a thread whose seccomp filter refuses
 * {@code io_uring_setup} (as container runtimes' profiles may): it runs on the plain path, says so
 * in one log line, and carries the same traffic.
 */
class IoUringNodesTest {
    private static final PacketPathOptions URING = PacketPathOptions.defaults().withIoUring(true);
    private static final int FLOOD = 2000;

    @Test
    void vxlanAndUdpNodesCarryPingFloodAndTcpThroughIoUring() throws Exception {
        Prerequisites.program("iperf3");
        for (NetConf netConf : List.of(VxlanInteropTest.VXLAN, UdpNodesTest.UDP)) {
            try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
                Testbed.Host a = bed.host(1);
                Testbed.Host b = bed.host(2);
                OverlayNode nodeA = bed.start(a, bed.config(a, netConf).withPacketPath(URING));
                OverlayNode nodeB = bed.start(b, bed.config(b, netConf).withPacketPath(URING));
                assumeTrue(nodeA.ioUring() && nodeB.ioUring(), "this kernel refuses io_uring");
                nodeA.addPeer(nodeB.localLease());
                nodeB.addPeer(nodeA.localLease());
                String what = netConf.backend().type() + " with io_uring";
                carries(bed, a, b, what);
                closeWithEveryBufferBack(List.of(nodeA, nodeB), what);
                assertEquals(List.of(), log.problems(), what);
            }
        }
    }

    @Test
    void aNodeRefusedIoUringRunsThePlainPathAfterOneLogLine() throws Exception {
        Prerequisites.program("iperf3");
        try (LogLines lines = LogLines.of(TunDevice.class.getName()); Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            NodeConfig configA = bed.config(a, VxlanInteropTest.VXLAN).withPacketPath(URING);
            CompletableFuture<OverlayNode> started = new CompletableFuture<>();
            Thread denied = a.ns().newThread("dp-no-uring", () -> {
                try {
                    IoUringDenial.onThisThread();
                    started.complete(OverlayNode.start(configA));
                } catch (Throwable t) {
                    started.completeExceptionally(t);
                }
            });
            denied.start();
            OverlayNode nodeA = started.get(30, TimeUnit.SECONDS);
            try {
                OverlayNode nodeB = bed.start(b, bed.config(b, VxlanInteropTest.VXLAN).withPacketPath(URING));
                assertFalse(nodeA.ioUring(), "io_uring_setup is refused where node a started");
                List<String> said = lines.lines();
                assertEquals(1, said.size(), said.toString());
                assertTrue(said.get(0).contains("io_uring unavailable") && said.get(0).contains("ENOSYS"), said.get(0));
                nodeA.addPeer(nodeB.localLease());
                nodeB.addPeer(nodeA.localLease());
                carries(bed, a, b, "vxlan, a refused io_uring, b " + (nodeB.ioUring() ? "with" : "without") + " it");
                closeWithEveryBufferBack(List.of(nodeA, nodeB), "vxlan with a refused io_uring");
            } finally {
                nodeA.close();
                denied.join();
            }
            assertEquals(List.of(), log.problems());
        }
    }

    // Ping, a ping flood with 32 in flight, and TCP both ways between the pods of a and b.
    private static void carries(Testbed bed, Testbed.Host a, Testbed.Host b, String what) throws Exception {
        Traffic.assertPings(a, b, 4);
        Traffic.assertPings(b, a, 4);
        Tool flood = Tool.run(Duration.ofSeconds(30), a.exec("ping", "-n", "-q", "-f", "-l", "32", "-c", String.valueOf(FLOOD), "-W", "2",
                "-I", a.podText(), b.podText()));
        Traffic.Ping p = Traffic.parsePing(flood.stdout());
        assertEquals(FLOOD, p.transmitted(), what + ": " + p.output());
        assertTrue(p.received() >= FLOOD * 99 / 100, what + ", ping flood: " + p.output());
        Traffic.assertTcpBothWays(bed, a, b, what);
    }

    private static void closeWithEveryBufferBack(List<OverlayNode> nodes, String what) {
        for (OverlayNode n : nodes) {
            NodeStats s = n.stats();
            assertTrue(s.egressPackets() > FLOOD && s.ingressPackets() > FLOOD, what + ": " + s);
            n.close();
            assertEquals(0, n.buffersInUse(), what + ": buffers still out after close");
        }
    }
}
