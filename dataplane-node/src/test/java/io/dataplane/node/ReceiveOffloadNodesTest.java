package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.config.NetConf;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Receive offload between nodes on the kernel's default veth offloads: a peer's UDP GSO messages
 * cross the veth whole, and our socket (UDP GRO) takes each up as one train, which the node
 * decapsulates datagram by datagram and writes into the TUN joined: two of our udp nodes, iperf3
 * TCP both ways. A vxlan node takes no trains (a kernel VTEP's UDP tunnel GSO would be cut at its
 * inner MSS: see OverlayNode): two of our vxlan nodes carry the same TCP datagram by datagram.
 */
class ReceiveOffloadNodesTest {

    @Test
    void twoUdpNodesReceiveTrains() throws Exception {
        twoNodesReceiveTrains(UdpNodesTest.UDP);
    }

    @Test
    void vxlanNodesTakeNoTrainsAndCarryTheSameTcp() throws Exception {
        twoNodesReceiveTrains(VxlanInteropTest.VXLAN);
    }

    private static void twoNodesReceiveTrains(NetConf netConf) throws Exception {
        boolean trains = netConf.backend().type() == io.dataplane.core.config.BackendType.UDP;
        Prerequisites.program("iperf3");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, bed.config(a, netConf));
            OverlayNode nodeB = bed.start(b, bed.config(b, netConf));
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            Traffic.assertTcpBothWays(bed, a, b, netConf.backend().type() + " nodes on default offloads");
            System.out.printf("trains, datagrams in them: a %s, b %s%n", Arrays.toString(nodeA.trainsReceived()),
                    Arrays.toString(nodeB.trainsReceived()));
            Traffic.assertOffloadCarried(List.of(nodeA, nodeB));
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                if (trains) assertTrains(n);
                else assertEquals(0, n.trainsReceived()[0], "trains received by " + n);
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

    private static void assertTrains(OverlayNode n) {
        long[] trains = n.trainsReceived();
        assertTrue(trains[0] > 0, "no train of datagrams received by " + n);
        assertTrue(trains[1] >= 2 * trains[0], "datagrams per train: " + trains[1] + " in " + trains[0] + " trains, " + n);
    }
}
