package io.dataplane.node;

import static io.dataplane.tun.testing.Hosts.json;
import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.netlink.Route;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * flannel's host-gw with two hosts of the test's own (namespaces over a veth pair, 192.0.2.1 and
 * .2, pod addresses 10.244.N.1 on lo): the kernel routes each backend writes, checked with {@code
 * ip -j route}, carry ping between the pods; removal and close take them away.
 */
class HostGwBackendTest {
    static final NetConf HOST_GW = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"host-gw\"}}");
    static final Ipv4Prefix SUBNET_1 = Ipv4Prefix.parse("10.244.1.0/24");
    static final Ipv4Prefix SUBNET_2 = Ipv4Prefix.parse("10.244.2.0/24");
    static final int A = Ipv4Address.parse("192.0.2.1");
    static final int B = Ipv4Address.parse("192.0.2.2");

    Hosts hosts;
    NetNamespace nsA;
    NetNamespace nsB;
    String vethA;
    HostGwBackend a;
    HostGwBackend b;

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        nsA = hosts.namespace("dphga");
        nsB = hosts.namespace("dphgb");
        vethA = Hosts.unique("dphg");
        String vethB = Hosts.unique("dphg");
        run("ip", "link", "add", vethA, "netns", nsA.name(), "type", "veth", "peer", "name", vethB, "netns", nsB.name());
        host(nsA, vethA, "192.0.2.1/24", "10.244.1.1/32");
        host(nsB, vethB, "192.0.2.2/24", "10.244.2.1/32");
        a = nsA.call(() -> HostGwBackend.open(HOST_GW, SUBNET_1, A));
        b = nsB.call(() -> HostGwBackend.open(HOST_GW, SUBNET_2, B));
    }

    private static void host(NetNamespace ns, String dev, String address, String pod) throws Exception {
        run("ip", "-n", ns.name(), "addr", "add", address, "dev", dev);
        run("ip", "-n", ns.name(), "link", "set", dev, "up");
        run("ip", "-n", ns.name(), "addr", "add", pod, "dev", "lo");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            if (a != null) a.close();
            if (b != null) b.close();
        } finally {
            hosts.close();
        }
    }

    JsonNode routes(NetNamespace ns, Ipv4Prefix subnet) throws Exception {
        return json("ip", "-j", "-n", ns.name(), "route", "show", subnet.toString());
    }

    Hosts.Result ping(NetNamespace from, String src, String dst) throws Exception {
        return Hosts.runAnyway("ip", "netns", "exec", from.name(), "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", src, dst);
    }

    @Test
    void routesAsFlannelWritesThemCarryPingBothWays() throws Exception {
        assertNull(a.encapsulation());
        assertNull(a.transport());
        assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"host-gw\"}", a.localLease().toJson());
        a.addPeer(b.localLease());
        b.addPeer(a.localLease());

        JsonNode r = routes(nsA, SUBNET_2);
        assertEquals(1, r.size(), r.toString());
        assertEquals("10.244.2.0/24", r.get(0).get("dst").asText());
        assertEquals("192.0.2.2", r.get(0).get("gateway").asText());
        assertEquals(vethA, r.get(0).get("dev").asText());
        assertEquals(0, r.get(0).path("flags").size(), r.toString());
        assertEquals("192.0.2.1", routes(nsB, SUBNET_1).get(0).get("gateway").asText());
        assertEquals(Map.of(SUBNET_2, Route.via(SUBNET_2, B, vethA)), a.kernelRoutes());
        assertEquals(List.of(b.localLease()), a.peers());

        Hosts.Result ab = ping(nsA, "10.244.1.1", "10.244.2.1");
        assertEquals(0, ab.exitCode(), ab.output());
        Hosts.Result ba = ping(nsB, "10.244.2.1", "10.244.1.1");
        assertEquals(0, ba.exitCode(), ba.output());
        assertTrue(ab.output().contains("3 received"), ab.output());
    }

    @Test
    void removingAPeerRemovesItsRouteAndTheTraffic() throws Exception {
        a.addPeer(b.localLease());
        b.addPeer(a.localLease());
        assertEquals(0, ping(nsA, "10.244.1.1", "10.244.2.1").exitCode());
        assertTrue(a.removePeer(SUBNET_2));
        assertEquals(0, routes(nsA, SUBNET_2).size());
        assertNotEquals(0, ping(nsA, "10.244.1.1", "10.244.2.1").exitCode(), "no route to the removed peer's pods");
        assertEquals(Map.of(), a.kernelRoutes());
        b.close();
        assertEquals(0, routes(nsB, SUBNET_1).size(), "close deletes the routes it added");
    }

    @Test
    void aPeerThatMovedIsReroutedInOneStep() throws Exception {
        a.addPeer(b.localLease());
        a.addPeer(Lease.of(SUBNET_2, Ipv4Address.parse("192.0.2.7"), BackendType.HOST_GW));
        JsonNode r = routes(nsA, SUBNET_2);
        assertEquals(1, r.size(), r.toString());
        assertEquals("192.0.2.7", r.get(0).get("gateway").asText());
    }

    @Test
    void peersOffTheLinkAndWrongLeasesAreRefusedByName() throws Exception {
        run("ip", "-n", nsA.name(), "route", "add", "198.51.100.0/24", "via", "192.0.2.254");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.addPeer(Lease.of(SUBNET_2, Ipv4Address.parse("198.51.100.3"), BackendType.HOST_GW)));
        assertEquals("peer not on a link of this host: PublicIP=198.51.100.3 is reached via 192.0.2.254, a route 10.244.2.0/24 via "
                + "198.51.100.3 needs it on the same subnet", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.addPeer(Lease.of(SUBNET_2, B, BackendType.IPIP)));
        assertEquals("lease of another backend: BackendType=ipip, this node runs host-gw (lease of 10.244.2.0/24)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.addPeer(Lease.of(SUBNET_1, B, BackendType.HOST_GW)));
        assertEquals("lease of our own subnet: Subnet=10.244.1.0/24", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.addPeer(Lease.of(SUBNET_2, A, BackendType.HOST_GW)));
        assertEquals("lease with our own public IP: PublicIP=192.0.2.1 (lease of 10.244.2.0/24)", e.getMessage());
        assertEquals(List.of(), a.peers());
        assertEquals(0, routes(nsA, SUBNET_2).size());
        ConfigException c = assertThrows(ConfigException.class, () -> HostGwBackend.open(
                NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\"}}"), SUBNET_1, A));
        assertTrue(c.getMessage().contains("not host-gw: ipip"), c.getMessage());
    }
}
