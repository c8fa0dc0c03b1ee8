package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.testing.Hosts;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * flannel's host-gw with two of our nodes, one per namespace over a veth pair: each peer becomes
 * the kernel route {@code SUBNET via PUBLICIP dev veth0} (checked with {@code ip -j route}), the
 * pods ping each other through the kernel alone, a removed peer's route is gone and its pods are
 * unreachable, a route deleted by hand is back within the route check's interval, leases that
 * cannot work are refused by name, and closing leaves no route behind.
 */
class HostGwNodesTest {
    static final NetConf HOST_GW = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"host-gw\"}}");

    static JsonNode route(Testbed.Host host, Ipv4Prefix subnet) throws Exception {
        return Hosts.json("ip", "-j", "-n", host.name(), "route", "show", subnet.toString());
    }

    @Test
    void twoNodesRouteEachOthersSubnetsAndPodsPingAcross() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, bed.config(a, HOST_GW));
            OverlayNode nodeB = bed.start(b, bed.config(b, HOST_GW));
            assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"host-gw\"}", nodeA.localLease().toJson());
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());

            for (Testbed.Host[] pair : new Testbed.Host[][] {{a, b}, {b, a}}) {
                JsonNode r = route(pair[0], pair[1].subnet());
                assertEquals(1, r.size(), r.toString());
                assertEquals(pair[1].subnet().toString(), r.get(0).get("dst").asText(), r.toString());
                assertEquals(pair[1].addressText(), r.get(0).get("gateway").asText(), r.toString());
                assertEquals(pair[0].underlay(), r.get(0).get("dev").asText(), r.toString());
                assertEquals(0, r.get(0).path("flags").size(), "no onlink: the gateway is on the link's subnet: " + r);
            }

            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            assertEquals(0, nodeA.stats().egressPackets(), "the kernel forwards, nothing passes through us");

            assertTrue(nodeA.removePeer(b.subnet()));
            assertEquals(0, route(a, b.subnet()).size(), "removing a peer removes its route");
            assertEquals(0, Traffic.pingUnanswered(a, b).received(), "no way to the removed peer's pods");
            nodeB.close();
            assertEquals(0, route(b, a.subnet()).size(), "closing a node removes its routes");
            assertEquals(List.of(), log.problems());
        }
    }

    @Test
    void aRouteDeletedByHandIsBackWithinTheRouteCheckInterval() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, bed.config(a, HOST_GW));
            OverlayNode nodeB = bed.start(b, bed.config(b, HOST_GW));
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            Traffic.assertPings(a, b, 2);

            Hosts.run("ip", "-n", a.name(), "route", "del", b.subnet().toString());
            assertEquals(0, route(a, b.subnet()).size(), "deleted by hand");
            long deadline = System.nanoTime() + OverlayNode.ROUTE_CHECK_INTERVAL.plusSeconds(5).toNanos();
            while (route(a, b.subnet()).isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the route to " + b.subnet() + " did not come back within "
                        + OverlayNode.ROUTE_CHECK_INTERVAL.plusSeconds(5));
                Thread.sleep(100);
            }
            JsonNode r = route(a, b.subnet());
            assertEquals(b.addressText(), r.get(0).get("gateway").asText(), r.toString());
            Traffic.assertPings(a, b, 2);

            nodeA.close();
            nodeB.close();
            assertEquals(List.of(), Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter("dp-routecheck"::equals).toList(), "the route check stops at close");
            assertEquals(List.of(), log.problems());
        }
    }

    @Test
    void leasesThatCannotWorkAreRefusedByName() throws Exception {
        try (Testbed bed = Testbed.hosts(2)) {
            Testbed.Host a = bed.host(1);
            OverlayNode node = bed.start(a, bed.config(a, HOST_GW));
            Hosts.run("ip", "-n", a.name(), "route", "add", "198.51.100.0/24", "via", "192.0.2.254");
            Ipv4Prefix subnet2 = Ipv4Prefix.parse("10.244.2.0/24");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> node.addPeer(Lease.of(subnet2, Ipv4Address.parse("198.51.100.3"), BackendType.HOST_GW)));
            assertEquals("peer not on a link of this host: PublicIP=198.51.100.3 is reached via 192.0.2.254, a route 10.244.2.0/24 via "
                    + "198.51.100.3 needs it on the same subnet", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> node.addPeer(Lease.of(subnet2, Ipv4Address.parse("203.0.113.9"),
                    BackendType.HOST_GW)));
            assertEquals("no route to the peer's public IP: PublicIP=203.0.113.9 (subnet 10.244.2.0/24)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> node.addPeer(Lease.of(subnet2, Ipv4Address.parse("192.0.2.2"), BackendType.IPIP)));
            assertEquals("lease of another backend: BackendType=ipip, this node runs host-gw (lease of 10.244.2.0/24)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> node.addPeer(Lease.of(Ipv4Prefix.parse("10.244.1.0/25"),
                    Ipv4Address.parse("192.0.2.2"), BackendType.HOST_GW)));
            assertEquals("lease overlaps our own subnet 10.244.1.0/24: Subnet=10.244.1.0/25", e.getMessage());
            assertEquals(List.of(), node.peers());
            assertEquals(0, route(a, subnet2).size());

            // A peer that moves is re-routed in one replace.
            node.addPeer(Lease.of(subnet2, Ipv4Address.parse("192.0.2.2"), BackendType.HOST_GW));
            node.addPeer(Lease.of(subnet2, Ipv4Address.parse("192.0.2.7"), BackendType.HOST_GW));
            JsonNode r = route(a, subnet2);
            assertEquals(1, r.size(), r.toString());
            assertEquals("192.0.2.7", r.get(0).get("gateway").asText());

            ConfigException c = assertThrows(ConfigException.class, () -> HostGwBackend.open(
                    NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\"}}"), a.subnet(), a.address()));
            assertTrue(c.getMessage().contains("not host-gw: ipip"), c.getMessage());
        }
    }
}
