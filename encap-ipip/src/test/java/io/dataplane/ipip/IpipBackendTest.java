package io.dataplane.ipip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ipip backend's control plane on the in-memory network: our lease, peers to routes and known addresses, refused leases. */
class IpipBackendTest {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    static final NetConf IPIP = NetConf.of(NETWORK, BackendConf.defaults(BackendType.IPIP));
    static final Ipv4Prefix OURS = Ipv4Prefix.parse("10.244.1.0/24");
    static final int US = Ipv4Address.parse("192.0.2.1");
    static final Ipv4Prefix SUBNET_2 = Ipv4Prefix.parse("10.244.2.0/24");
    static final int PEER_2 = Ipv4Address.parse("192.0.2.2");
    static final int PEER_3 = Ipv4Address.parse("192.0.2.3");

    @TempDir
    Path stateDir;
    final FakeNetwork network = new FakeNetwork();
    PacketPool pool;
    IpipBackend backend;

    @BeforeEach
    void open() throws Exception {
        pool = new PacketPool(64);
        backend = IpipBackend.open(context(IPIP, pool, 1480), IpipOptions.defaults().withTransports(network::attach));
    }

    @AfterEach
    void close() {
        backend.close();
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    BackendContext context(NetConf net, PacketPool p, int tunMtu) {
        return new BackendContext(net, OURS, US, "flannel.ipip", tunMtu, p, stateDir);
    }

    static Lease lease(String subnet, int publicIp) {
        return Lease.of(Ipv4Prefix.parse(subnet), publicIp, BackendType.IPIP);
    }

    @Test
    void ourLeaseIsFlannelsIpipLease() {
        assertEquals(BackendType.IPIP, backend.type());
        assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"ipip\"}", backend.localLease().toJson());
        assertEquals(IpipTunnelConfig.of(US, 1480), backend.tunnelConfig());
        assertEquals(20, backend.encapsulation().overhead());
        assertFalse(backend.directRouting());
        assertEquals(Map.of(), backend.directRoutes());
        assertEquals(0, backend.transport().localPort());
    }

    @Test
    void peersBecomeRoutesAndKnownAddresses() {
        backend.addPeer(lease("10.244.2.0/24", PEER_2));
        backend.addPeer(lease("10.244.3.0/24", PEER_3));
        assertEquals(PEER_2, backend.gateway((int) backend.routes().lookup(Ipv4Address.parse("10.244.2.77"))));
        assertEquals(PEER_3, backend.gateway((int) backend.routes().lookup(Ipv4Address.parse("10.244.3.1"))));
        assertEquals(RouteTable.NO_ROUTE, backend.routes().lookup(Ipv4Address.parse("10.244.4.1")));
        assertTrue(backend.peerAddresses().contains(PEER_2));
        assertEquals(List.of(lease("10.244.2.0/24", PEER_2), lease("10.244.3.0/24", PEER_3)), backend.peers());

        // The peer of 10.244.2.0/24 moves to another address: one step, the old one is no longer known.
        int moved = Ipv4Address.parse("192.0.2.22");
        backend.addPeer(lease("10.244.2.0/24", moved));
        assertEquals(moved, backend.gateway((int) backend.routes().lookup(Ipv4Address.parse("10.244.2.77"))));
        assertFalse(backend.peerAddresses().contains(PEER_2));
        assertTrue(backend.peerAddresses().contains(moved));
        backend.addPeer(lease("10.244.2.0/24", moved)); // the same lease again changes nothing
        assertEquals(1, backend.peerAddresses().count(moved));

        assertTrue(backend.removePeer(SUBNET_2));
        assertFalse(backend.removePeer(SUBNET_2));
        assertEquals(RouteTable.NO_ROUTE, backend.routes().lookup(Ipv4Address.parse("10.244.2.77")));
        assertFalse(backend.peerAddresses().contains(moved));
        assertEquals(Map.of(PEER_3, 1), backend.peerAddresses().snapshot());
    }

    @Test
    void twoSubnetsOfOneNodeShareItsAddress() {
        backend.addPeer(lease("10.244.2.0/24", PEER_2));
        backend.addPeer(lease("10.244.5.0/24", PEER_2));
        assertTrue(backend.removePeer(SUBNET_2));
        assertTrue(backend.peerAddresses().contains(PEER_2), "still the public IP of 10.244.5.0/24");
    }

    @Test
    void leasesThatDoNotFitAreRefusedByName() {
        backend.addPeer(lease("10.244.2.0/24", PEER_2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.addPeer(Lease.of(Ipv4Prefix.parse("10.244.3.0/24"), PEER_3, BackendType.UDP)));
        assertEquals("lease of another backend: BackendType=udp, this node runs ipip (lease of 10.244.3.0/24)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(lease("10.244.3.0/24", US)));
        assertEquals("lease with our own public IP: PublicIP=192.0.2.1 (lease of 10.244.3.0/24)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(lease("10.244.1.0/24", PEER_3)));
        assertEquals("lease of our own subnet: Subnet=10.244.1.0/24", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(lease("10.244.0.0/20", PEER_3)));
        assertEquals("lease overlaps our own subnet 10.244.1.0/24: Subnet=10.244.0.0/20", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(lease("10.245.3.0/24", PEER_3)));
        assertEquals("lease outside the network 10.244.0.0/16: Subnet=10.245.3.0/24", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(lease("10.244.2.128/25", PEER_3)));
        assertEquals("lease overlaps peer 10.244.2.0/24: Subnet=10.244.2.128/25", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.addPeer(null));
        assertEquals("lease missing: null", e.getMessage());
        assertEquals(List.of(lease("10.244.2.0/24", PEER_2)), backend.peers(), "refused leases changed nothing");
        assertEquals(Map.of(PEER_2, 1), backend.peerAddresses().snapshot());
    }

    @Test
    void closedBackendRefusesPeers() {
        backend.close();
        assertThrows(IllegalStateException.class, () -> backend.addPeer(lease("10.244.2.0/24", PEER_2)));
    }

    @Test
    void openChecksItsConfigurationAndPool() throws Exception {
        ConfigException c = assertThrows(ConfigException.class, () -> IpipBackend.open(
                context(NetConf.of(NETWORK, BackendConf.defaults(BackendType.UDP)), pool, 1480), IpipOptions.defaults().withTransports(network::attach)));
        assertTrue(c.getMessage().contains("Backend.Type") && c.getMessage().contains("not ipip: udp"), c.getMessage());
        try (PacketPool cramped = new PacketPool(4, 2048, 16)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpipBackend.open(context(IPIP, cramped, 1480),
                    IpipOptions.defaults().withTransports(network::attach)));
            assertEquals("pool headroom too small for IP-in-IP: headroom=16 (needs 20)", e.getMessage());
        }
        try (PacketPool small = new PacketPool(4, 1024, 128)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpipBackend.open(context(IPIP, small, 1480),
                    IpipOptions.defaults().withTransports(network::attach)));
            assertEquals("pool buffers too small for the TUN MTU: tunMtu=1480 needs 1500 bytes after the headroom, buffers have 896", e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpipBackend.open(context(IPIP, pool, 1480),
                IpipOptions.defaults().withOuterTtl(300).withTransports(network::attach)));
        assertEquals("outer TTL out of range: outerTtl=300 (1-255, or 0 to copy the inner TTL)", e.getMessage());
    }
}
