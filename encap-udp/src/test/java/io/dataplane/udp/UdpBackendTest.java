package io.dataplane.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.VxlanLeaseData;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The udp backend's control plane: a route per lease, the peers' addresses, refused leases. */
class UdpBackendTest {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    static final Ipv4Prefix OUR_SUBNET = Ipv4Prefix.parse("10.244.1.0/24");
    static final Ipv4Prefix PEER_SUBNET = Ipv4Prefix.parse("10.244.2.0/24");
    static final int NODE1 = Ipv4Address.parse("192.0.2.1");
    static final int NODE2 = Ipv4Address.parse("192.0.2.2");
    static final int NODE3 = Ipv4Address.parse("192.0.2.3");

    @TempDir
    Path stateDir;
    final FakeNetwork network = new FakeNetwork();
    final PacketPool pool = new PacketPool(64);
    final List<UdpBackend> backends = new ArrayList<>();

    @AfterEach
    void closeAll() {
        backends.forEach(UdpBackend::close);
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    BackendContext context(BackendConf conf, PacketPool pool, int tunMtu) {
        return new BackendContext(NetConf.of(NETWORK, conf), OUR_SUBNET, NODE1, "flannel0", tunMtu, pool, stateDir);
    }

    UdpBackend open() throws IOException {
        UdpBackend b = UdpBackend.open(context(BackendConf.defaults(BackendType.UDP), pool, 1472),
                UdpOptions.defaults().withTransports(network::attach));
        backends.add(b);
        return b;
    }

    static Lease lease(Ipv4Prefix subnet, int publicIp) {
        return Lease.of(subnet, publicIp, BackendType.UDP);
    }

    @Test
    void openBindsOurPublicIpAtFlannelsPortAndIcmpErrorsComeFromTheNetworkAddress() throws IOException {
        UdpBackend b = open();
        assertEquals(NODE1, ((FakeTransport) b.transport()).address());
        assertEquals(8285, b.transport().localPort());
        assertEquals(NETWORK.address(), b.tunnelConfig().icmpSource(), "an overlay address no node owns, not the TUN's");
        assertEquals(1472, b.tunnelConfig().innerMtu());
        assertEquals(lease(OUR_SUBNET, NODE1), b.localLease());
        assertNull(b.localLease().backendData());
        assertEquals(BackendType.UDP, b.type());
    }

    @Test
    void icmpSourceIsNeverTheTunAddress() {
        assertEquals(NETWORK.address(), UdpTunnelConfig.icmpSourceFor(NETWORK, OUR_SUBNET));
        Ipv4Prefix first = Ipv4Prefix.parse("10.244.0.0/24");
        assertEquals(NETWORK.lastAddress(), UdpTunnelConfig.icmpSourceFor(NETWORK, first),
                "the node that leases the network's first subnet has the network address on its TUN");
    }

    @Test
    void theConfiguredPortIsUsed() throws IOException {
        AtomicReference<String> asked = new AtomicReference<>();
        BackendConf conf = new BackendConf(BackendType.UDP, 0, 9999, false, false, false, 0, null, 0, 0);
        UdpBackend b = UdpBackend.open(context(conf, pool, 1472), UdpOptions.defaults().withTransports((address, port, p) -> {
            asked.set(Ipv4Address.toString(address) + ":" + port);
            return network.attach(address, port, p);
        }));
        backends.add(b);
        assertEquals("192.0.2.1:9999", asked.get());
        b.addPeer(lease(PEER_SUBNET, NODE2));
        PacketBuffer p = pool.acquire().put(TestPackets.echoRequest(OUR_SUBNET.address() + 5, PEER_SUBNET.address() + 7, 64, 1, 1, 8));
        try {
            assertEquals(Encapsulation.FORWARD, b.encapsulation().encap(p, (int) b.routes().lookup(PEER_SUBNET.address() + 7)));
            assertEquals(NODE2, p.peerAddress());
            assertEquals(9999, p.peerPort(), "every peer listens on the configured port, as flannel's udp");
        } finally {
            p.release();
        }
    }

    @Test
    void contextsThatCannotWorkAreRefusedAtOpen() {
        UdpOptions options = UdpOptions.defaults().withTransports(network::attach);
        assertEquals("Backend.Type: not udp: vxlan", assertThrows(ConfigException.class,
                () -> UdpBackend.open(context(BackendConf.defaults(BackendType.VXLAN), pool, 1450), options)).getMessage());
        try (PacketPool small = new PacketPool(4, 2048, 20)) {
            assertEquals("pool headroom too small for the ICMP errors of the udp backend: headroom=20 (needs 28)",
                    assertThrows(IllegalArgumentException.class,
                            () -> UdpBackend.open(context(BackendConf.defaults(BackendType.UDP), small, 1472), options)).getMessage());
        }
        assertEquals("pool buffers too small for the TUN MTU: tunMtu=8972 needs 8972 bytes after the headroom, buffers have 1920",
                assertThrows(IllegalArgumentException.class,
                        () -> UdpBackend.open(context(BackendConf.defaults(BackendType.UDP), pool, 8972), options)).getMessage());
        assertEquals("ICMP burst out of range: icmpBurst=0 (1-1000000)", assertThrows(IllegalArgumentException.class,
                () -> UdpBackend.open(context(BackendConf.defaults(BackendType.UDP), pool, 1472), options.withIcmpLimit(5, 0))).getMessage());
    }

    @Test
    void aLeaseIsARouteToThePeersPublicIp() throws IOException {
        UdpBackend b = open();
        b.addPeer(lease(PEER_SUBNET, NODE2));
        assertEquals(Map.of(PEER_SUBNET, NODE2), gateways(b));
        assertEquals(Map.of(NODE2, 1), b.peerAddresses().snapshot());
        PeerEntry entry = b.peerEntry(PEER_SUBNET);
        assertEquals(Map.of(PEER_SUBNET, entry.id()), b.routes().snapshot(), "the route holds the peer's id");
        assertEquals(List.of(lease(PEER_SUBNET, NODE2)), b.peers());

        b.addPeer(lease(PEER_SUBNET, NODE3));
        assertEquals(Map.of(PEER_SUBNET, NODE3), gateways(b), "an update moves the route");
        assertSame(entry, b.peerEntry(PEER_SUBNET), "the peer keeps its entry, and its counts");
        assertEquals(NODE3, entry.endpoint());
        assertEquals(Map.of(NODE3, 1), b.peerAddresses().snapshot(), "and the old address is a stranger now");
        b.addPeer(lease(PEER_SUBNET, NODE3));
        assertEquals(Map.of(NODE3, 1), b.peerAddresses().snapshot(), "the same lease again changes nothing");

        Ipv4Prefix second = Ipv4Prefix.parse("10.244.7.0/24");
        b.addPeer(lease(second, NODE3));
        assertTrue(b.removePeer(PEER_SUBNET));
        assertTrue(b.peerAddresses().contains(NODE3), "still the public IP of the second subnet");
        assertTrue(b.removePeer(second));
        assertFalse(b.removePeer(second));
        assertEquals(Map.of(), b.routes().snapshot());
        assertEquals(Map.of(), b.peerAddresses().snapshot());
        assertEquals(List.of(), b.peers());
        assertNull(b.peerEntry(PEER_SUBNET));
    }

    /** The routes with the public IPs their values stand for. */
    static Map<Ipv4Prefix, Integer> gateways(UdpBackend b) {
        Map<Ipv4Prefix, Integer> out = new HashMap<>();
        b.routes().snapshot().forEach((subnet, value) -> out.put(subnet, b.gateway(value)));
        return out;
    }

    @Test
    void leasesThatDoNotFitAreRefusedNamingFieldAndValue() throws IOException {
        UdpBackend b = open();
        b.addPeer(lease(PEER_SUBNET, NODE2));
        record Case(Lease lease, String message) {}
        for (Case c : List.of(
                new Case(Lease.vxlan(Ipv4Prefix.parse("10.244.3.0/24"), NODE3, new VxlanLeaseData(1, MacAddress.parse("02:00:00:00:00:03"))),
                        "lease of another backend: BackendType=vxlan, this node runs udp (lease of 10.244.3.0/24)"),
                new Case(lease(Ipv4Prefix.parse("10.244.3.0/24"), NODE1), "lease with our own public IP: PublicIP=192.0.2.1 (lease of 10.244.3.0/24)"),
                new Case(lease(OUR_SUBNET, NODE3), "lease of our own subnet: Subnet=10.244.1.0/24"),
                new Case(lease(Ipv4Prefix.parse("10.244.1.128/25"), NODE3), "lease overlaps our own subnet 10.244.1.0/24: Subnet=10.244.1.128/25"),
                new Case(lease(Ipv4Prefix.parse("10.245.3.0/24"), NODE3), "lease outside the network 10.244.0.0/16: Subnet=10.245.3.0/24"),
                new Case(lease(Ipv4Prefix.parse("10.244.2.0/23"), NODE3), "lease overlaps peer 10.244.2.0/24: Subnet=10.244.2.0/23"))) {
            assertEquals(c.message(), assertThrows(IllegalArgumentException.class, () -> b.addPeer(c.lease())).getMessage());
        }
        assertEquals("lease missing: null", assertThrows(IllegalArgumentException.class, () -> b.addPeer(null)).getMessage());
        assertEquals(1, b.routes().size(), "nothing refused was programmed");
        assertEquals(1, b.peerAddresses().size());
        b.close();
        assertThrows(IllegalStateException.class, () -> b.addPeer(lease(Ipv4Prefix.parse("10.244.3.0/24"), NODE3)));
    }

    @Test
    void anUpdateNeverDropsAPacketNorSendsOneToTheOldAddressAfterwards() throws Exception {
        // One encapsulation per thread, as the node runs them: the reader's is the backend's, this
        // thread's a lane's (its socket, one port up, stays unused).
        AtomicInteger sockets = new AtomicInteger();
        UdpBackend b = UdpBackend.open(context(BackendConf.defaults(BackendType.UDP), pool, 1472),
                UdpOptions.defaults().withTransports((address, port, p) -> network.attach(address, port + sockets.getAndIncrement(), p)));
        backends.add(b);
        Encapsulation ours = b.openLane(pool).encapsulation();
        b.addPeer(lease(PEER_SUBNET, NODE2));
        int dst = PEER_SUBNET.address() + 7;
        byte[] ping = TestPackets.echoRequest(OUR_SUBNET.address() + 5, dst, 64, 1, 1, 8);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            PacketBuffer p = pool.acquire();
            try {
                while (!done.get() && failure.get() == null) {
                    p.setData(PacketPool.DEFAULT_HEADROOM, 0).put(ping);
                    int verdict = b.encapsulation().encap(p, (int) b.routes().lookup(dst));
                    if (verdict != Encapsulation.FORWARD) failure.set("verdict " + verdict);
                    else if (p.peerAddress() != NODE2 && p.peerAddress() != NODE3) failure.set("sent to " + Ipv4Address.toString(p.peerAddress()));
                }
            } finally {
                p.release();
            }
        });
        PacketBuffer p = pool.acquire();
        try {
            for (int i = 0; i < 2000 && failure.get() == null; i++) {
                int next = i % 2 == 0 ? NODE3 : NODE2;
                b.addPeer(lease(PEER_SUBNET, next));
                p.setData(PacketPool.DEFAULT_HEADROOM, 0).put(ping);
                assertEquals(Encapsulation.FORWARD, ours.encap(p, (int) b.routes().lookup(dst)));
                assertEquals(next, p.peerAddress());
                assertTrue(b.peerAddresses().contains(next));
            }
        } finally {
            p.release();
            done.set(true);
            reader.join();
        }
        assertNull(failure.get());
    }
}
