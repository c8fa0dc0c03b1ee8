package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.testing.Hosts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code "DirectRouting": true} as flannel does it, with three of our nodes on two underlay subnets
 * ({@link Testbed#twoSubnets}): hosts 1 and 2 share 192.0.2.0/24, host 3 sits behind a router on
 * 198.51.100.0/24. Between 1 and 2 the kernel routes the pods' packets straight (a route {@code
 * SUBNET via PUBLICIP} in flannel's form for the backend, checked with {@code ip -j route}), and
 * tshark on the underlay sees plain ICMP; to and from 3 they are tunnelled. Removing a peer and
 * closing a node delete the kernel routes.
 */
class DirectRoutingNodesTest {

    static NetConf direct(String backend) {
        return NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\", \"DirectRouting\": true}}");
    }

    /** {@code ip -j route show SUBNET} on {@code host}. */
    static JsonNode route(Testbed.Host host, Ipv4Prefix subnet) throws Exception {
        return Hosts.json("ip", "-j", "-n", host.name(), "route", "show", subnet.toString());
    }

    /** The kernel route on {@code host} to {@code peer}'s subnet is flannel's direct route of {@code backend}. */
    static void assertDirectRoute(String backend, Testbed.Host host, Testbed.Host peer) throws Exception {
        JsonNode r = route(host, peer.subnet());
        assertEquals(1, r.size(), "one kernel route to " + peer.subnet() + " on " + host.name() + ": " + r);
        JsonNode route = r.get(0);
        assertEquals(peer.subnet().toString(), route.get("dst").asText(), route.toString());
        assertEquals(peer.addressText(), route.get("gateway").asText(), route.toString());
        assertEquals(host.underlay(), route.get("dev").asText(), route.toString());
        List<String> flags = new ArrayList<>();
        route.path("flags").forEach(f -> flags.add(f.asText()));
        // flanneld: ipip keeps its tunnel route's onlink flag (dev ext onlink), vxlan's directRoute names only the gateway.
        assertEquals(backend.equals("ipip") ? List.of("onlink") : List.of(), flags, route.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ipip", "vxlan"})
    void peerOnOurSubnetIsRoutedDirectlyAndThePeerBehindTheRouterTunnelled(String backend) throws Exception {
        Prerequisites.program("tshark");
        try (Testbed bed = Testbed.twoSubnets(); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            Testbed.Host c = bed.host(3);
            NetConf net = direct(backend);
            List<OverlayNode> nodes = List.of(bed.start(a, bed.config(a, net)), bed.start(b, bed.config(b, net)), bed.start(c, bed.config(c, net)));
            for (OverlayNode n : nodes) {
                for (OverlayNode peer : nodes) if (peer != n) n.addPeer(peer.localLease());
            }

            assertDirectRoute(backend, a, b);
            assertDirectRoute(backend, b, a);
            for (Testbed.Host[] pair : new Testbed.Host[][] {{a, c}, {b, c}, {c, a}, {c, b}}) {
                assertEquals(0, route(pair[0], pair[1].subnet()).size(), pair[1].subnet() + " is tunnelled from " + pair[0].name()
                        + ", through the TUN's route of the whole network");
            }

            // What host 1 sends: plain ICMP to host 2's pod, encapsulated to host 3's.
            Tool tshark = bed.startTool(a, "tshark", "-i", a.underlay(), "-n", "-l", "-c", "6",
                    "-f", "ip and (src host " + a.addressText() + " or src host " + a.podText() + ")",
                    "-d", "udp.port==8472,vxlan", "-T", "fields", "-E", "separator=;", "-e", "frame.protocols", "-e", "ip.src", "-e", "ip.dst");
            tshark.awaitStderr("Capturing on", Duration.ofSeconds(20));
            for (int i = 0; i < 20 && !tshark.await(Duration.ofMillis(200)); i++) {
                Traffic.ping(a, b, 1, 0.05);
                Traffic.ping(a, c, 1, 0.05);
            }
            assertTrue(tshark.await(Duration.ofSeconds(5)), tshark.output());
            List<String> frames = tshark.stdout().lines().toList();
            assertEquals(6, frames.size(), tshark.output());
            String tunnelled = backend.equals("ipip") ? "eth:ethertype:ip:ip:icmp:data" : "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data";
            int plain = 0;
            int encapsulated = 0;
            for (String frame : frames) {
                String[] f = frame.split(";", -1);
                if (f[0].equals("eth:ethertype:ip:icmp:data")) {
                    plain++;
                    assertEquals(a.podText() + ";" + b.podText(), f[1] + ";" + f[2], "only host 2's pod is reached directly: " + frame);
                } else {
                    encapsulated++;
                    assertEquals(tunnelled, f[0], frame);
                    assertEquals(a.addressText() + "," + a.podText(), f[1], frame);
                    assertEquals(c.addressText() + "," + c.podText(), f[2], "only host 3's pod is tunnelled to: " + frame);
                }
            }
            assertTrue(plain > 0 && encapsulated > 0, "both ways seen: " + frames);

            Traffic.assertPings(a, b, 3);
            Traffic.assertPings(b, a, 3);
            Traffic.assertPings(a, c, 3);
            Traffic.assertPings(c, b, 3);

            // Removing host 2 from host 1 takes the kernel route away; closing host 2's node takes its own.
            assertTrue(nodes.get(0).removePeer(b.subnet()));
            assertEquals(0, route(a, b.subnet()).size());
            nodes.get(1).close();
            assertEquals(0, route(b, a.subnet()).size());
            assertEquals(List.of(), log.problems());
        }
    }
}
