package io.dataplane.tun.netlink;

import static io.dataplane.tun.testing.Hosts.json;
import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.testing.Hosts;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every Netlink operation against what {@code ip -j} and {@code bridge -j} report afterwards, in a
 * namespace of the test's own with a veth pair and a VXLAN device made by {@code ip}.
 */
class NetlinkTest {
    private static final MacAddress PEER_MAC = MacAddress.parse("22:e8:35:88:1e:9a");
    private Hosts hosts;
    private NetNamespace ns;
    private Netlink nl;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        ns = hosts.namespace("dpnl");
        run("ip", "-n", ns.name(), "link", "add", "va", "type", "veth", "peer", "name", "vb");
        run("ip", "-n", ns.name(), "link", "add", "vx1", "type", "vxlan", "id", "1", "local", "192.0.2.1",
                "dev", "va", "dstport", "8472", "nolearning");
        nl = ns.call(Netlink::open);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (nl != null) nl.close();
        if (hosts != null) hosts.close();
    }

    private JsonNode ipJson(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "-j", "-n", ns.name()));
        cmd.addAll(List.of(args));
        return json(cmd.toArray(String[]::new));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void linkReportsWhatIpReports() throws Exception {
        JsonNode ip = ipJson("link", "show", "dev", "va").get(0);
        Link link = nl.link("va");
        assertEquals(ip.get("ifindex").asInt(), link.index());
        assertEquals("va", link.name());
        assertEquals(ip.get("mtu").asInt(), link.mtu());
        assertEquals(MacAddress.parse(ip.get("address").asText()), link.mac());
        assertFalse(link.up());
        assertEquals(link.index(), nl.linkIndex("va"));
    }

    @Test
    void addVethPutsThePeerInTheOtherNamespaceAndEitherNameTakenIsEexist() throws Exception {
        NetNamespace other = hosts.namespace("dpnl2");
        nl.addVeth("vc", "vd", other.path());
        JsonNode here = ipJson("-d", "link", "show", "dev", "vc").get(0);
        assertEquals("veth", here.get("linkinfo").get("info_kind").asText(), here.toString());
        JsonNode there = json("ip", "-j", "-d", "-n", other.name(), "link", "show", "dev", "vd").get(0);
        assertEquals("veth", there.get("linkinfo").get("info_kind").asText(), there.toString());
        assertEquals(here.get("ifindex").asInt(), there.get("link_index").asInt(), "vd's peer is vc: " + there);
        ErrnoException taken = assertThrows(ErrnoException.class, () -> nl.addVeth("vc", "ve", other.path()));
        assertEquals(Errno.EEXIST, taken.errno());
        ErrnoException noNamespace = assertThrows(ErrnoException.class, () -> nl.addVeth("vf", "vg", other.path() + "-none"));
        assertEquals(Errno.ENOENT, noNamespace.errno());
    }

    @Test
    void linkOfTunHasNoMac() throws Exception {
        try (TunDevice tun = ns.call(() -> TunDevice.open("dptun0"))) {
            Link link = nl.link("dptun0");
            assertNull(link.mac());
            assertEquals(tun.index(), link.index());
            assertEquals(tun.mtu(), link.mtu());
        }
    }

    @Test
    void linkDumpReportsWhatIpReports() throws Exception {
        nl.setMtu("vb", 1400);
        JsonNode ip = ipJson("link", "show");
        List<Link> links = nl.links();
        assertEquals(ip.size(), links.size(), ip.toString());
        for (int i = 0; i < links.size(); i++) {
            JsonNode each = ip.get(i);
            Link link = links.get(i);
            assertEquals(each.get("ifindex").asInt(), link.index(), each.toString());
            assertEquals(each.get("ifname").asText(), link.name());
            assertEquals(each.get("mtu").asInt(), link.mtu());
            assertEquals(strings(each.get("flags")).contains("UP"), link.up());
            assertEquals(nl.link(link.name()), link);
        }
        assertEquals(List.of("lo", "va", "vb", "vx1"), links.stream().map(Link::name).sorted().toList());
    }

    @Test
    void addressDumpReportsWhatIpReports() throws Exception {
        nl.addAddress("va", Ipv4Address.parse("192.0.2.1"), 24);
        nl.addAddress("va", Ipv4Address.parse("192.0.2.11"), 24);
        nl.addAddress("vx1", Ipv4Address.parse("10.244.1.0"), 32);
        nl.addAddress("lo", Ipv4Address.parse("10.244.1.1"), 32);
        List<String> fromIp = new ArrayList<>();
        for (JsonNode link : ipJson("-4", "addr", "show")) {
            for (JsonNode a : link.get("addr_info")) {
                fromIp.add(link.get("ifindex").asInt() + " " + a.get("label").asText() + " " + a.get("local").asText() + "/"
                        + a.get("prefixlen").asInt());
            }
        }
        List<String> ours = nl.addresses().stream()
                .map(a -> a.linkIndex() + " " + a.label() + " " + Ipv4Address.toString(a.address()) + "/" + a.prefixLength())
                .toList();
        assertEquals(fromIp.stream().sorted().toList(), ours.stream().sorted().toList());
        assertTrue(ours.contains(nl.linkIndex("va") + " va 192.0.2.11/24"), ours.toString());
        assertTrue(ours.contains(nl.linkIndex("lo") + " lo 127.0.0.1/8"), ours.toString());
        Address a = nl.addresses().stream().filter(x -> x.address() == Ipv4Address.parse("192.0.2.11")).findFirst().orElseThrow();
        assertEquals(Ipv4Prefix.parse("192.0.2.0/24"), a.subnet());
    }

    @Test
    void setMtuMacAndUpDown() throws Exception {
        MacAddress mac = MacAddress.parse("02:11:22:33:44:55");
        nl.setMtu("vx1", 1450);
        nl.setMac("vx1", mac);
        nl.setUp("va", true);
        nl.setUp("vx1", true);
        JsonNode vx = ipJson("link", "show", "dev", "vx1").get(0);
        assertEquals(1450, vx.get("mtu").asInt());
        assertEquals(mac.toString(), vx.get("address").asText());
        assertTrue(strings(vx.get("flags")).contains("UP"), vx.toString());
        assertTrue(nl.link("vx1").up());

        nl.setTxQueueLength("vx1", 2000);
        assertEquals(2000, ipJson("link", "show", "dev", "vx1").get(0).get("txqlen").asInt());
        assertThrows(IllegalArgumentException.class, () -> nl.setTxQueueLength("vx1", 0));

        nl.setUp("vx1", false);
        assertFalse(strings(ipJson("link", "show", "dev", "vx1").get(0).get("flags")).contains("UP"));
        assertFalse(nl.link("vx1").up());
    }

    @Test
    void ipv6LinkLocalOffLeavesAnUpDeviceWithoutIpv6Address() throws Exception {
        nl.setIpv6LinkLocal("va", false);
        nl.setIpv6LinkLocal("vb", true);
        nl.setUp("va", true);
        nl.setUp("vb", true);
        assertEquals("none", ipJson("-d", "link", "show", "dev", "va").get(0).get("inet6_addr_gen_mode").asText());
        assertEquals("eui64", ipJson("-d", "link", "show", "dev", "vb").get(0).get("inet6_addr_gen_mode").asText());
        assertEquals(0, ipJson("-6", "addr", "show", "dev", "va").size(), ipJson("-6", "addr", "show", "dev", "va").toString());
        JsonNode vb = ipJson("-6", "addr", "show", "dev", "vb");
        assertEquals("link", vb.get(0).get("addr_info").get(0).get("scope").asText(), vb.toString());
    }

    @Test
    void addAndDeleteAddresses() throws Exception {
        nl.addAddress("vx1", Ipv4Address.parse("10.244.1.0"), 32);
        nl.addAddress("va", Ipv4Address.parse("192.0.2.1"), 24);
        JsonNode vx = ipJson("addr", "show", "dev", "vx1").get(0).get("addr_info");
        assertEquals(1, vx.size(), vx.toString());
        assertEquals("inet", vx.get(0).get("family").asText());
        assertEquals("10.244.1.0", vx.get(0).get("local").asText());
        assertEquals(32, vx.get(0).get("prefixlen").asInt());
        JsonNode va = ipJson("-4", "addr", "show", "dev", "va").get(0).get("addr_info");
        assertEquals("192.0.2.1", va.get(0).get("local").asText());
        assertEquals(24, va.get(0).get("prefixlen").asInt());

        ErrnoException dup = assertThrows(ErrnoException.class, () -> nl.addAddress("vx1", Ipv4Address.parse("10.244.1.0"), 32));
        assertEquals(17, dup.errno());
        assertTrue(dup.getMessage().startsWith("RTM_NEWADDR 10.244.1.0/32 dev vx1 failed: errno=17 (EEXIST)"), dup.getMessage());

        nl.deleteAddress("vx1", Ipv4Address.parse("10.244.1.0"), 32);
        assertEquals(0, ipJson("addr", "show", "dev", "vx1").get(0).get("addr_info").size());
    }

    @Test
    void addReplaceAndDeleteRoutes() throws Exception {
        nl.setUp("va", true);
        nl.setUp("vx1", true);
        nl.addAddress("va", Ipv4Address.parse("192.0.2.1"), 24);
        Route onlink = Route.onlink(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("10.244.2.0"), "vx1");
        Route hostGw = Route.via(Ipv4Prefix.parse("10.244.3.0/24"), Ipv4Address.parse("192.0.2.3"), "va");
        Route direct = Route.direct(Ipv4Prefix.parse("198.51.100.0/24"), "va");
        nl.addRoute(onlink);
        nl.addRoute(hostGw);
        nl.addRoute(direct);

        JsonNode r = route("10.244.2.0/24");
        assertEquals("10.244.2.0", r.get("gateway").asText());
        assertEquals("vx1", r.get("dev").asText());
        assertTrue(strings(r.get("flags")).contains("onlink"), r.toString());
        r = route("10.244.3.0/24");
        assertEquals("192.0.2.3", r.get("gateway").asText());
        assertEquals("va", r.get("dev").asText());
        assertFalse(strings(r.get("flags")).contains("onlink"));
        r = route("198.51.100.0/24");
        assertFalse(r.has("gateway"));
        assertEquals("link", r.get("scope").asText());

        ErrnoException dup = assertThrows(ErrnoException.class, () -> nl.addRoute(onlink));
        assertTrue(dup.getMessage().startsWith(
                "RTM_NEWROUTE 10.244.2.0/24 via 10.244.2.0 dev vx1 onlink failed: errno=17 (EEXIST)"), dup.getMessage());

        nl.replaceRoute(Route.via(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("192.0.2.2"), "va"));
        r = route("10.244.2.0/24");
        assertEquals("192.0.2.2", r.get("gateway").asText());
        assertEquals("va", r.get("dev").asText());

        nl.deleteRoute(Route.via(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("192.0.2.2"), "va"));
        nl.deleteRoute(hostGw);
        nl.deleteRoute(direct);
        for (JsonNode each : ipJson("route", "show")) {
            String dst = each.get("dst").asText();
            assertFalse(dst.equals("10.244.2.0/24") || dst.equals("10.244.3.0/24") || dst.equals("198.51.100.0/24"), each.toString());
        }
    }

    @Test
    void routeDumpReportsWhatIpReports() throws Exception {
        nl.setUp("va", true);
        nl.setUp("vx1", true);
        nl.addAddress("va", Ipv4Address.parse("192.0.2.1"), 24);
        nl.addRoute(Route.via(Ipv4Prefix.parse("0.0.0.0/0"), Ipv4Address.parse("192.0.2.254"), "va"));
        nl.addRoute(Route.onlink(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("10.244.2.0"), "vx1"));
        nl.addRoute(Route.direct(Ipv4Prefix.parse("198.51.100.0/24"), "vx1"));
        // Another table: not in the main table's dump, as ip route show leaves it out.
        run("ip", "-n", ns.name(), "route", "add", "203.0.113.0/24", "dev", "va", "table", "1000");

        List<String> fromIp = new ArrayList<>();
        for (JsonNode r : ipJson("route", "show")) {
            String dst = r.get("dst").asText();
            fromIp.add((dst.equals("default") ? "0.0.0.0/0" : dst.contains("/") ? dst : dst + "/32") + " "
                    + (r.has("gateway") ? r.get("gateway").asText() : "-") + " " + r.get("dev").asText() + " "
                    + strings(r.get("flags")).contains("onlink"));
        }
        List<Route> routes = nl.routes();
        List<String> ours = routes.stream().map(r -> r.destination() + " " + (r.gateway() == 0 ? "-" : Ipv4Address.toString(r.gateway()))
                + " " + r.device() + " " + r.onlink()).toList();
        assertEquals(fromIp, ours);
        assertTrue(routes.contains(Route.via(Ipv4Prefix.parse("0.0.0.0/0"), Ipv4Address.parse("192.0.2.254"), "va")), routes.toString());
        assertTrue(routes.contains(Route.onlink(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("10.244.2.0"), "vx1")));
        assertTrue(routes.contains(Route.direct(Ipv4Prefix.parse("192.0.2.0/24"), "va")), routes.toString());
        assertFalse(ours.stream().anyMatch(r -> r.startsWith("203.0.113.0/24")), ours.toString());
    }

    private JsonNode route(String dst) throws Exception {
        for (JsonNode r : ipJson("route", "show")) {
            if (r.get("dst").asText().equals(dst)) return r;
        }
        throw new AssertionError("no route to " + dst + " in " + ipJson("route", "show"));
    }

    @Test
    void addReplaceAndDeleteNeighbors() throws Exception {
        nl.addNeighbor("vx1", Ipv4Address.parse("10.244.2.0"), PEER_MAC);
        JsonNode n = ipJson("neigh", "show", "dev", "vx1");
        assertEquals(1, n.size(), n.toString());
        assertEquals("10.244.2.0", n.get(0).get("dst").asText());
        assertEquals(PEER_MAC.toString(), n.get(0).get("lladdr").asText());
        assertEquals(List.of("PERMANENT"), strings(n.get(0).get("state")));

        ErrnoException dup = assertThrows(ErrnoException.class, () -> nl.addNeighbor("vx1", Ipv4Address.parse("10.244.2.0"), PEER_MAC));
        assertEquals(17, dup.errno());

        MacAddress other = MacAddress.parse("22:e8:35:88:1e:9b");
        nl.replaceNeighbor("vx1", Ipv4Address.parse("10.244.2.0"), other);
        assertEquals(other.toString(), ipJson("neigh", "show", "dev", "vx1").get(0).get("lladdr").asText());

        nl.deleteNeighbor("vx1", Ipv4Address.parse("10.244.2.0"));
        assertEquals(0, ipJson("neigh", "show", "dev", "vx1").size());
    }

    @Test
    void appendReplaceAndDeleteFdbEntries() throws Exception {
        int dst2 = Ipv4Address.parse("192.0.2.2");
        int dst3 = Ipv4Address.parse("192.0.2.3");
        nl.appendFdb("vx1", PEER_MAC, dst2);
        List<JsonNode> entries = fdb(PEER_MAC);
        assertEquals(1, entries.size(), entries.toString());
        assertEquals("192.0.2.2", entries.get(0).get("dst").asText());
        assertTrue(strings(entries.get(0).get("flags")).contains("self"), entries.toString());
        assertEquals("permanent", entries.get(0).get("state").asText(), entries.toString());

        nl.replaceFdb("vx1", PEER_MAC, dst3);
        entries = fdb(PEER_MAC);
        assertEquals(1, entries.size(), entries.toString());
        assertEquals("192.0.2.3", entries.get(0).get("dst").asText());

        nl.deleteFdb("vx1", PEER_MAC, dst3);
        assertEquals(0, fdb(PEER_MAC).size());

        // The kernel keeps several remotes only for the all-zero (flood) entry; append adds one each.
        nl.appendFdb("vx1", MacAddress.ZERO, dst2);
        nl.appendFdb("vx1", MacAddress.ZERO, dst3);
        assertEquals(List.of("192.0.2.2", "192.0.2.3"), fdb(MacAddress.ZERO).stream().map(e -> e.get("dst").asText()).sorted().toList());
        nl.deleteFdb("vx1", MacAddress.ZERO, dst2);
        assertEquals(List.of("192.0.2.3"), fdb(MacAddress.ZERO).stream().map(e -> e.get("dst").asText()).toList());
    }

    private List<JsonNode> fdb(MacAddress mac) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode e : json("bridge", "-j", "-n", ns.name(), "fdb", "show", "dev", "vx1")) {
            if (e.get("mac").asText().equals(mac.toString())) out.add(e);
        }
        return out;
    }

    @Test
    void missingDeviceIsNamed() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> nl.link("nosuchdev0"));
        assertEquals(19, e.errno());
        assertTrue(e.getMessage().startsWith("RTM_GETLINK dev nosuchdev0 failed: errno=19 (ENODEV)"), e.getMessage());
        e = assertThrows(ErrnoException.class, () -> nl.addAddress("nosuchdev0", Ipv4Address.parse("10.0.0.1"), 24));
        assertTrue(e.getMessage().contains("nosuchdev0"), e.getMessage());
    }

    @Test
    void tooLongNameIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> nl.setUp("a-name-too-long-0", true));
        assertEquals("interface name too long: \"a-name-too-long-0\" (17 bytes, max 15)", e.getMessage());
    }

    @Test
    void configuresOnlyItsOwnNamespace() throws Exception {
        // A socket opened on the namespace's thread sees the namespace's devices, not the test JVM's.
        try (Netlink outside = Netlink.open()) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> outside.link("vx1"));
            assertEquals(19, e.errno());
        }
    }
}
