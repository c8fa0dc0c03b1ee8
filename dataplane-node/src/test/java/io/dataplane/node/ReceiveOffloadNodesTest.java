package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.vxlan.VxlanEncapsulation;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Receive offload between nodes on the kernel's default veth offloads: a peer's UDP GSO messages
 * cross the veth whole, and our socket (UDP GRO) takes each up as one train, which the node
 * decapsulates datagram by datagram and writes into the TUN joined: two of our udp nodes, and two
 * of our vxlan nodes, iperf3 TCP both ways. Our vxlan peers send trains only, never a whole
 * super-packet (that is a kernel VTEP's, see VxlanInteropTest). Without offload ({@code
 * --no-offload}) two vxlan nodes carry the same TCP datagram by datagram.
 */
class ReceiveOffloadNodesTest {

    @Test
    void twoUdpNodesReceiveTrains() throws Exception {
        twoNodes(UdpNodesTest.UDP, true);
    }

    @Test
    void twoVxlanNodesReceiveTrains() throws Exception {
        twoNodes(VxlanInteropTest.VXLAN, true);
    }

    @Test
    void vxlanNodesWithoutOffloadCarryTheSameTcpDatagramByDatagram() throws Exception {
        twoNodes(VxlanInteropTest.VXLAN, false);
    }

    private static void twoNodes(NetConf netConf, boolean offload) throws Exception {
        Prerequisites.program("iperf3");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, withOffload(bed.config(a, netConf), offload));
            OverlayNode nodeB = bed.start(b, withOffload(bed.config(b, netConf), offload));
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            Traffic.assertTcpBothWays(bed, a, b, netConf.backend().type() + " nodes, offload " + offload);
            System.out.printf("%s, offload %s: trains, datagrams in them: a %s, b %s; whole super-packets: a %d, b %d%n",
                    netConf.backend().type(), offload, Arrays.toString(nodeA.trainsReceived()), Arrays.toString(nodeB.trainsReceived()),
                    wholeSuperPackets(nodeA), wholeSuperPackets(nodeB));
            if (offload) Traffic.assertOffloadCarried(List.of(nodeA, nodeB));
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                if (offload) {
                    assertTrains(n);
                } else {
                    assertEquals(0, n.trainsReceived()[0], "trains received without offload by " + n);
                }
                assertEquals(0, wholeSuperPackets(n), "whole super-packets from a peer that sends trains, by " + n);
            }
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                NodeStats s = n.stats();
                assertEquals(0, s.droppedTotal(), s.toString());
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
            }
            assertEquals(List.of(), log.problems());
        }
    }

    private static NodeConfig withOffload(NodeConfig config, boolean offload) {
        return config.withPacketPath(config.packetPath().withOffload(offload));
    }

    /** Super-packets a vxlan node's VTEP forwarded whole; 0 for other backends. */
    static long wholeSuperPackets(OverlayNode n) {
        return n.backendType() == BackendType.VXLAN ? ((VxlanEncapsulation) n.backend().encapsulation()).superPacketsReceived() : 0;
    }

    private static void assertTrains(OverlayNode n) {
        long[] trains = n.trainsReceived();
        assertTrue(trains[0] > 0, "no train of datagrams received by " + n);
        assertTrue(trains[1] >= 2 * trains[0], "datagrams per train: " + trains[1] + " in " + trains[0] + " trains, " + n);
    }
}
