package io.dataplane.vxlan;

import static io.dataplane.tun.testing.Hosts.json;
import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.VxlanLeaseData;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
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
 * The vxlan backend with DirectRouting in a namespace of the test's own (veth {@code va} with
 * 192.0.2.1/24, 198.51.100.0/24 behind the gateway 192.0.2.254): a peer on the link gets flanneld's
 * {@code directRoute}, {@code SUBNET via PUBLICIP}, instead of the VTEP's route, and keeps its FDB
 * entry so its VXLAN datagrams are still taken; a peer behind the gateway is tunnelled; updates
 * switch; removal and close delete the kernel routes.
 */
class VxlanDirectRoutingTest {
    static final NetConf DIRECT = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"DirectRouting\": true}}");
    static final Ipv4Prefix SUBNET_2 = Ipv4Prefix.parse("10.244.2.0/24");
    static final Ipv4Prefix SUBNET_3 = Ipv4Prefix.parse("10.244.3.0/24");
    static final int ON_LINK = Ipv4Address.parse("192.0.2.2");
    static final int BEHIND_GATEWAY = Ipv4Address.parse("198.51.100.3");
    static final MacAddress MAC2 = MacAddress.parse("42:ce:43:ce:47:4b");
    static final MacAddress MAC3 = MacAddress.parse("22:e8:35:88:1e:9a");

    @TempDir
    Path stateDir;
    Hosts hosts;
    NetNamespace ns;
    PacketPool pool;
    VxlanBackend backend;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dpvxdr");
        run("ip", "-n", ns.name(), "link", "add", "va", "type", "veth", "peer", "name", "vb");
        run("ip", "-n", ns.name(), "addr", "add", "192.0.2.1/24", "dev", "va");
        run("ip", "-n", ns.name(), "link", "set", "va", "up");
        run("ip", "-n", ns.name(), "link", "set", "vb", "up");
        run("ip", "-n", ns.name(), "route", "add", "198.51.100.0/24", "via", "192.0.2.254");
        pool = new PacketPool(64);
        BackendContext context = new BackendContext(DIRECT, Ipv4Prefix.parse("10.244.1.0/24"), Ipv4Address.parse("192.0.2.1"),
                "flannel.1", 1450, pool, stateDir);
        FakeNetwork network = new FakeNetwork();
        backend = ns.call(() -> VxlanBackend.open(context, VxlanOptions.defaults().withTransports(network::attach)));
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
        assertEquals("va", r.get(0).get("dev").asText(), "the kernel picks the link of the gateway");
        assertFalse(r.get(0).has("flags") && r.get(0).get("flags").size() > 0, "flanneld's directRoute has no flags: " + r);
    }

    static Lease lease(Ipv4Prefix subnet, int publicIp, MacAddress mac) {
        return Lease.vxlan(subnet, publicIp, new VxlanLeaseData(1, mac));
    }

    @Test
    void peerOnTheLinkIsRoutedByTheKernelAndTheOtherTunnelled() throws Exception {
        assertTrue(backend.directRouting());
        backend.addPeer(lease(SUBNET_2, ON_LINK, MAC2));
        backend.addPeer(lease(SUBNET_3, BEHIND_GATEWAY, MAC3));
        assertKernelRoute(SUBNET_2, "192.0.2.2");
        assertEquals(RouteTable.NO_ROUTE, backend.routes().lookup(SUBNET_2.address() + 1), "not through the VTEP");
        assertEquals(Map.of(SUBNET_2, new Route(SUBNET_2, ON_LINK, null, false)), backend.directRoutes());
        assertTrue(backend.fdb().hasEndpoint(ON_LINK), "a direct peer's VXLAN datagrams are still taken");
        assertEquals(0, ipRoute(SUBNET_3).size(), "no kernel route for the peer behind a gateway");
        assertEquals(Integer.toUnsignedLong(SUBNET_3.address()), backend.routes().lookup(SUBNET_3.address() + 1), "via its VTEP address");
    }

    @Test
    void leaseUpdatesSwitchBetweenKernelRouteAndTunnel() throws Exception {
        backend.addPeer(lease(SUBNET_2, ON_LINK, MAC2));
        backend.addPeer(lease(SUBNET_2, BEHIND_GATEWAY, MAC2)); // the peer moved off our link
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertEquals(Integer.toUnsignedLong(SUBNET_2.address()), backend.routes().lookup(SUBNET_2.address() + 1));
        assertTrue(backend.fdb().hasEndpoint(BEHIND_GATEWAY));
        assertFalse(backend.fdb().hasEndpoint(ON_LINK));
        backend.addPeer(lease(SUBNET_2, Ipv4Address.parse("192.0.2.5"), MAC3)); // back onto it, new address and MAC
        assertKernelRoute(SUBNET_2, "192.0.2.5");
        assertEquals(RouteTable.NO_ROUTE, backend.routes().lookup(SUBNET_2.address() + 1));
        assertTrue(backend.fdb().hasEndpoint(Ipv4Address.parse("192.0.2.5")));
        assertFalse(backend.fdb().hasEndpoint(BEHIND_GATEWAY));
    }

    @Test
    void removalAndCloseDeleteTheKernelRoutes() throws Exception {
        Ipv4Prefix subnet4 = Ipv4Prefix.parse("10.244.4.0/24");
        backend.addPeer(lease(SUBNET_2, ON_LINK, MAC2));
        backend.addPeer(lease(subnet4, Ipv4Address.parse("192.0.2.4"), MAC3));
        assertTrue(backend.removePeer(SUBNET_2));
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertFalse(backend.fdb().hasEndpoint(ON_LINK));
        assertKernelRoute(subnet4, "192.0.2.4");
        backend.close();
        assertEquals(0, ipRoute(subnet4).size(), "close deletes every route it added");
    }
}
