package io.dataplane.vxlan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.udp.UdpTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two VTEPs with their production transport, Netty epoll UDP sockets, bound to 127.0.0.1 and
 * 127.0.0.2 (no root needed): the backend's default socket path end to end, with fake TUNs.
 */
class VxlanOverUdpSocketsTest {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");

    @TempDir
    Path stateDir;
    final List<FakeNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        for (FakeNode n : nodes) n.close();
    }

    FakeNode node(int i, int port) throws IOException {
        PacketPool pool = new PacketPool(512);
        BackendConf conf = new BackendConf(BackendType.VXLAN, 1, port, false, false, false, 0, null, 0, 0);
        BackendContext ctx = new BackendContext(NetConf.of(NETWORK, conf), Ipv4Prefix.parse("10.244." + i + ".0/24"),
                Ipv4Address.parse("127.0.0." + i), "flannel.1", 1450, pool, stateDir.resolve("node" + i));
        VxlanBackend backend;
        try {
            backend = VxlanBackend.open(ctx);
        } catch (IOException | RuntimeException e) {
            pool.close();
            throw e;
        }
        FakeNode n = FakeNode.start("tun" + i, pool, backend, 1450);
        nodes.add(n);
        return n;
    }

    @Test
    void pingBothWaysThroughRealSockets() throws Exception {
        Prerequisites.require(UdpTransport.isAvailable(), "Netty epoll unavailable: " + UdpTransport.unavailabilityCause());
        FakeNode a = null;
        FakeNode b = null;
        // Both ends need the same port (the VXLAN port is the network's); another test may hold one.
        for (int attempt = 0; b == null; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20000, 60000);
            try {
                a = node(1, port);
                b = node(2, port);
            } catch (IOException e) {
                if (attempt == 10) throw e;
                for (FakeNode n : nodes) n.close();
                nodes.clear();
                a = null;
            }
        }
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());
        for (int seq = 1; seq <= 50; seq++) {
            byte[] request = TestPackets.echoRequest(Ipv4Address.parse("10.244.1.5"), Ipv4Address.parse("10.244.2.7"), 63, 7, seq, 1000);
            a.tun().inject(request);
            byte[] got = b.tun().awaitWritten(Duration.ofSeconds(5));
            assertNotNull(got, "request " + seq + " did not arrive");
            assertArrayEquals(request, got);
            byte[] reply = TestPackets.echoReplyTo(request);
            b.tun().inject(reply);
            got = a.tun().awaitWritten(Duration.ofSeconds(5));
            assertNotNull(got, "reply " + seq + " did not arrive");
            assertArrayEquals(reply, got);
        }
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal());
    }
}
