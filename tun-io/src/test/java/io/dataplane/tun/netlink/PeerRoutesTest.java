package io.dataplane.tun.netlink;

import static io.dataplane.tun.testing.Hosts.json;
import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.testing.Hosts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Route lookups ({@code ip route get}) and peer routes in each of flannel's forms, checked against
 * {@code ip -j}, in a namespace of the test's own: veth {@code va} with 192.0.2.1/24 (peers on the
 * link) and 198.51.100.0/24 behind a gateway 192.0.2.254.
 */
class PeerRoutesTest {
    private static final Ipv4Prefix SUBNET_2 = Ipv4Prefix.parse("10.244.2.0/24");
    private static final Ipv4Prefix SUBNET_3 = Ipv4Prefix.parse("10.244.3.0/24");
    private static final int LOCAL = Ipv4Address.parse("192.0.2.1");
    private static final int ON_LINK = Ipv4Address.parse("192.0.2.2");
    private static final int ON_LINK_2 = Ipv4Address.parse("192.0.2.3");
    private static final int GATEWAY = Ipv4Address.parse("192.0.2.254");
    private static final int BEHIND_GATEWAY = Ipv4Address.parse("198.51.100.7");
    private static final int NOWHERE = Ipv4Address.parse("203.0.113.1");
    private Hosts hosts;
    private NetNamespace ns;
    private Netlink nl;
    private final List<PeerRoutes> opened = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dppr");
        run("ip", "-n", ns.name(), "link", "add", "va", "type", "veth", "peer", "name", "vb");
        run("ip", "-n", ns.name(), "addr", "add", "192.0.2.1/24", "dev", "va");
        run("ip", "-n", ns.name(), "link", "set", "va", "up");
        run("ip", "-n", ns.name(), "link", "set", "vb", "up");
        run("ip", "-n", ns.name(), "route", "add", "198.51.100.0/24", "via", "192.0.2.254");
        nl = ns.call(Netlink::open);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (PeerRoutes r : opened) r.close();
        if (nl != null) nl.close();
        if (hosts != null) hosts.close();
    }

    private PeerRoutes open(PeerRoutes.Style style) throws Exception {
        PeerRoutes r = ns.call(() -> PeerRoutes.open(style));
        opened.add(r);
        return r;
    }

    /** {@code ip -j route show SUBNET} (empty when there is no such route). */
    private JsonNode ipRoute(Ipv4Prefix subnet) throws Exception {
        return json("ip", "-j", "-n", ns.name(), "route", "show", subnet.toString());
    }

    private static List<String> flags(JsonNode route) {
        List<String> out = new ArrayList<>();
        route.path("flags").forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void routeGetReportsWhatIpRouteGetReports() throws Exception {
        for (int address : new int[] {ON_LINK, BEHIND_GATEWAY}) {
            JsonNode ip = json("ip", "-j", "-n", ns.name(), "route", "get", Ipv4Address.toString(address)).get(0);
            RouteLookup hop = nl.routeGet(address);
            assertEquals(address, hop.destination());
            assertEquals(ip.has("gateway") ? Ipv4Address.parse(ip.get("gateway").asText()) : 0, hop.gateway(), ip.toString());
            assertEquals(ip.get("dev").asText(), nl.link(hop.linkIndex()).name(), ip.toString());
            assertEquals(Ipv4Address.parse(ip.get("prefsrc").asText()), hop.source(), ip.toString());
            assertFalse(hop.local());
        }
        assertTrue(nl.routeGet(ON_LINK).direct());
        assertEquals(GATEWAY, nl.routeGet(BEHIND_GATEWAY).gateway());
        assertFalse(nl.routeGet(BEHIND_GATEWAY).direct());
        RouteLookup self = nl.routeGet(LOCAL);
        assertTrue(self.local());
        assertFalse(self.direct(), "our own address is not a peer on the link");
        ErrnoException e = assertThrows(ErrnoException.class, () -> nl.routeGet(NOWHERE));
        assertEquals(Errno.ENETUNREACH, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("RTM_GETROUTE 203.0.113.1"), e.getMessage());
    }

    @Test
    void linkByIndexIsLinkByName() throws Exception {
        Link va = nl.link("va");
        assertEquals(va, nl.link(va.index()));
        ErrnoException e = assertThrows(ErrnoException.class, () -> nl.link(99999));
        assertEquals(Errno.ENODEV, e.errno(), e.getMessage());
    }

    @Test
    void isDirectAsFlannelDecidesIt() throws Exception {
        PeerRoutes routes = open(PeerRoutes.Style.VIA_GATEWAY);
        assertTrue(routes.isDirect(ON_LINK));
        assertFalse(routes.isDirect(BEHIND_GATEWAY), "reached via a gateway");
        assertFalse(routes.isDirect(NOWHERE), "no route at all");
        assertFalse(routes.isDirect(LOCAL), "our own address");
    }

    @Test
    void eachStyleWritesFlannelsForm() throws Exception {
        // host-gw: subnet via PublicIP dev IFACE
        PeerRoutes hostGw = open(PeerRoutes.Style.VIA_DEVICE);
        assertEquals(Route.via(SUBNET_2, ON_LINK, "va"), hostGw.add(SUBNET_2, ON_LINK));
        JsonNode r = ipRoute(SUBNET_2).get(0);
        assertEquals("10.244.2.0/24", r.get("dst").asText());
        assertEquals("192.0.2.2", r.get("gateway").asText());
        assertEquals("va", r.get("dev").asText());
        assertEquals(List.of(), flags(r));
        hostGw.close();
        assertEquals(0, ipRoute(SUBNET_2).size(), "close deletes the route");

        // ipip with DirectRouting: ... dev IFACE onlink
        PeerRoutes ipip = open(PeerRoutes.Style.VIA_DEVICE_ONLINK);
        assertEquals(Route.onlink(SUBNET_2, ON_LINK, "va"), ipip.add(SUBNET_2, ON_LINK));
        r = ipRoute(SUBNET_2).get(0);
        assertEquals("192.0.2.2", r.get("gateway").asText());
        assertEquals("va", r.get("dev").asText());
        assertEquals(List.of("onlink"), flags(r));
        ipip.close();

        // vxlan with DirectRouting: subnet via PublicIP; the kernel picks the device
        PeerRoutes vxlan = open(PeerRoutes.Style.VIA_GATEWAY);
        assertEquals(new Route(SUBNET_2, ON_LINK, null, false), vxlan.add(SUBNET_2, ON_LINK));
        r = ipRoute(SUBNET_2).get(0);
        assertEquals("192.0.2.2", r.get("gateway").asText());
        assertEquals("va", r.get("dev").asText());
        assertEquals(List.of(), flags(r));
    }

    @Test
    void addReplacesWhateverRoutedTheSubnetAndRemoveDeletesOnlyOurs() throws Exception {
        run("ip", "-n", ns.name(), "route", "add", SUBNET_2.toString(), "via", "192.0.2.3");
        PeerRoutes routes = open(PeerRoutes.Style.VIA_DEVICE);
        routes.add(SUBNET_2, ON_LINK);
        routes.add(SUBNET_3, ON_LINK_2);
        JsonNode r = ipRoute(SUBNET_2);
        assertEquals(1, r.size(), r.toString());
        assertEquals("192.0.2.2", r.get(0).get("gateway").asText());
        routes.add(SUBNET_2, ON_LINK_2); // the peer moved
        assertEquals("192.0.2.3", ipRoute(SUBNET_2).get(0).get("gateway").asText());
        assertEquals(Map.of(SUBNET_2, Route.via(SUBNET_2, ON_LINK_2, "va"), SUBNET_3, Route.via(SUBNET_3, ON_LINK_2, "va")), routes.routes());

        assertTrue(routes.remove(SUBNET_2));
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertFalse(routes.remove(SUBNET_2), "no route of ours any more");
        assertFalse(routes.remove(Ipv4Prefix.parse("10.244.9.0/24")));
        run("ip", "-n", ns.name(), "route", "del", SUBNET_3.toString());
        assertTrue(routes.remove(SUBNET_3), "one already gone is removed without an error");
    }

    @Test
    void peersNotOnTheLinkAreRefusedByName() throws Exception {
        PeerRoutes routes = open(PeerRoutes.Style.VIA_DEVICE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> routes.add(SUBNET_2, BEHIND_GATEWAY));
        assertEquals("peer not on a link of this host: PublicIP=198.51.100.7 is reached via 192.0.2.254, a route 10.244.2.0/24 via "
                + "198.51.100.7 needs it on the same subnet", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> routes.add(SUBNET_2, NOWHERE));
        assertEquals("no route to the peer's public IP: PublicIP=203.0.113.1 (subnet 10.244.2.0/24)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> routes.add(SUBNET_2, LOCAL));
        assertEquals("the peer's public IP is an address of this host: PublicIP=192.0.2.1", e.getMessage());
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertEquals(Map.of(), routes.routes());
    }

    @Test
    void restorePutsBackDeletedRoutes() throws Exception {
        PeerRoutes routes = open(PeerRoutes.Style.VIA_DEVICE_ONLINK);
        routes.add(SUBNET_2, ON_LINK);
        run("ip", "-n", ns.name(), "route", "del", SUBNET_2.toString());
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertEquals(List.of(), routes.restore());
        JsonNode r = ipRoute(SUBNET_2).get(0);
        assertEquals("192.0.2.2", r.get("gateway").asText());
        assertEquals(List.of("onlink"), flags(r));
        assertEquals(List.of(), routes.restore(), "a route in place is left as it is");
        assertEquals(1, ipRoute(SUBNET_2).size());
    }

    @Test
    void closedRoutesRefuseNewOnes() throws Exception {
        PeerRoutes routes = open(PeerRoutes.Style.VIA_GATEWAY);
        routes.add(SUBNET_2, ON_LINK);
        routes.close();
        routes.close();
        assertEquals(0, ipRoute(SUBNET_2).size());
        assertThrows(IllegalStateException.class, () -> routes.add(SUBNET_3, ON_LINK));
    }
}
