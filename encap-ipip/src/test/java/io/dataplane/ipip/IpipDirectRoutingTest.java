package io.dataplane.ipip;

import static io.dataplane.tun.testing.Hosts.json;
import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.netlink.Route;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ipip backend with DirectRouting in a namespace of the test's own (veth {@code va} with
 * 192.0.2.1/24, 198.51.100.0/24 behind the gateway 192.0.2.254): a peer on the link gets flannel's
 * kernel route {@code via PUBLICIP dev va onlink}, a peer behind the gateway the tunnel; lease
 * updates switch between them; removal and close delete the kernel routes.
 */
class IpipDirectRoutingTest {
    static final NetConf DIRECT = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\", \"DirectRouting\": true}}");
    static final Ipv4Prefix SUBNET_2 = Ipv4Prefix.parse("10.244.2.0/24");
    static final Ipv4Prefix SUBNET_3 = Ipv4Prefix.parse("10.244.3.0/24");
    static final int ON_LINK = Ipv4Address.parse("192.0.2.2");
    static final int BEHIND_GATEWAY = Ipv4Address.parse("198.51.100.3");

    @TempDir
    Path stateDir;
    Hosts hosts;
    NetNamespace ns;
    PacketPool pool;
    IpipBackend backend;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dpipdr");
        run("ip", "-n", ns.name(), "link", "add", "va", "type", "veth", "peer", "name", "vb");
        run("ip", "-n", ns.name(), "addr", "add", "192.0.2.1/24", "dev", "va");
        run("ip", "-n", ns.name(), "link", "set", "va", "up");
        run("ip", "-n", ns.name(), "link", "set", "vb", "up");
        run("ip", "-n", ns.name(), "route", "add", "198.51.100.0/24", "via", "192.0.2.254");
        pool = new PacketPool(64);
        BackendContext context = new BackendContext(DIRECT, Ipv4Prefix.parse("10.244.1.0/24"), Ipv4Address.parse("192.0.2.1"),
                "flannel.ipip", 1480, pool, stateDir);
        FakeNetwork network = new FakeNetwork();
        backend = ns.call(() -> IpipBackend.open(context, IpipOptions.defaults().withTransports(network::attach)));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            if (backend != null) backend.close();
            assertEquals(0, pool.outstanding());
        } finally {
            pool.close();
            hosts.close();
        }
    }

    JsonNode ipRoute(Ipv4Prefix subnet) throws Exception {
        return json("ip", "-j", "-n", ns.name(), "route", "show", subnet.toString());
    }

    void assertKernelRoute(Ipv4Prefix subnet, String gateway) throws Exception {
        JsonNode r = ipRoute(subnet);
        assertEquals(1, r.size(), r.toString());
        assertEquals(subnet.toString(), r.get(0).get("dst").asText());
        assertEquals(gateway, r.get(0).get("gateway").asText());
        assertEquals("va", r.get(0).get("dev").asText());
        assertEquals("[\"onlink\"]", r.get(0).get("flags").toString(), "flannel's ipip route keeps onlink");
    }

    static Lease lease(Ipv4Prefix subnet, int publicIp) {
        return Lease.of(subnet, publicIp, BackendType.IPIP);
    }

    @Test
    void peerOnTheLinkIsRoutedByTheKernelAndTheOtherTunnelled() throws Exception {
        assertTrue(backend.directRouting());
        backend.addPeer(lease(SUBNET_2, ON_LINK));
        backend.addPeer(lease(SUBNET_3, BEHIND_GATEWAY));
        assertKernelRoute(SUBNET_2, "192.0.2.2");
        assertEquals(RouteTable.NO_ROUTE, backend.routes().lookup(SUBNET_2.address() + 1), "not through the tunnel");
        assertEquals(0, ipRoute(SUBNET_3).size(), "no kernel route for the peer behind a gateway");
        assertEquals(BEHIND_GATEWAY, backend.gateway((int) backend.routes().lookup(SUBNET_3.address() + 1)));
        assertEquals(Map.of(SUBNET_2, Route.onlink(SUBNET_2, ON_LINK, "va")), backend.directRoutes());
        assertTrue(backend.peerAddresses().contains(ON_LINK), "a direct peer's datagrams are still taken");
        assertTrue(backend.peerAddresses().contains(BEHIND_GATEWAY));
    }

    @Test
    void leaseUpdatesSwitchBetweenKernelRouteAndTunnel() throws Exception {
        backend.addPeer(lease(SUBNET_2, ON_LINK));
        backend.addPeer(lease(SUBNET_2, BEHIND_GATEWAY)); // the peer moved off our link
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertEquals(BEHIND_GATEWAY, backend.gateway((int) backend.routes().lookup(SUBNET_2.address() + 1)));
        assertEquals(Map.of(BEHIND_GATEWAY, 1), backend.peerAddresses().snapshot());
        backend.addPeer(lease(SUBNET_2, Ipv4Address.parse("192.0.2.5"))); // and back onto it, at another address
        assertKernelRoute(SUBNET_2, "192.0.2.5");
        assertEquals(RouteTable.NO_ROUTE, backend.routes().lookup(SUBNET_2.address() + 1));
        assertEquals(Map.of(Ipv4Address.parse("192.0.2.5"), 1), backend.peerAddresses().snapshot());
    }

    @Test
    void removalAndCloseDeleteTheKernelRoutes() throws Exception {
        backend.addPeer(lease(SUBNET_2, ON_LINK));
        backend.addPeer(lease(Ipv4Prefix.parse("10.244.4.0/24"), Ipv4Address.parse("192.0.2.4")));
        assertTrue(backend.removePeer(SUBNET_2));
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertKernelRoute(Ipv4Prefix.parse("10.244.4.0/24"), "192.0.2.4");
        backend.close();
        assertEquals(0, ipRoute(Ipv4Prefix.parse("10.244.4.0/24")).size(), "close deletes every route it added");
    }
}
