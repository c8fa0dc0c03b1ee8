package io.dataplane.tun.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import org.junit.jupiter.api.Test;

/**
 * Two namespaces joined by a veth pair, each with a kernel VXLAN device programmed only through
 * {@link Netlink} exactly as flanneld programs {@code flannel.1} (the device itself is made with
 * {@code ip link add ... type vxlan} as a test step): a ping between their pod addresses crosses
 * the overlay, and iperf3 TCP both ways on the veth's default offloads.
 */
class KernelVxlanTest {
    private record Node(NetNamespace ns, String underlayDevice, int underlayAddress, int vtepAddress, int podAddress, Ipv4Prefix subnet) {}

    @Test
    void flannelStyleVxlanCarriesPingAndTcpBetweenNamespaces() throws Exception {
        Hosts.assumeRoot();
        try (Hosts hosts = new Hosts()) {
            NetNamespace nsA = hosts.namespace("dpvxa");
            NetNamespace nsB = hosts.namespace("dpvxb");
            String vethA = Hosts.unique("dpva");
            String vethB = Hosts.unique("dpvb");
            Hosts.run("ip", "link", "add", vethA, "netns", nsA.name(), "type", "veth", "peer", "name", vethB, "netns", nsB.name());
            Node a = new Node(nsA, vethA, Ipv4Address.parse("192.0.2.1"), Ipv4Address.parse("10.244.1.0"),
                    Ipv4Address.parse("10.244.1.1"), Ipv4Prefix.parse("10.244.1.0/24"));
            Node b = new Node(nsB, vethB, Ipv4Address.parse("192.0.2.2"), Ipv4Address.parse("10.244.2.0"),
                    Ipv4Address.parse("10.244.2.1"), Ipv4Prefix.parse("10.244.2.0/24"));
            MacAddress macA = setUpNode(a);
            MacAddress macB = setUpNode(b);
            addPeer(a, b, macB);
            addPeer(b, a, macA);

            Hosts.Result ping = Hosts.runAnyway("ip", "netns", "exec", nsA.name(), "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2",
                    "-I", Ipv4Address.toString(a.podAddress()), Ipv4Address.toString(b.podAddress()));
            assertEquals(0, ping.exitCode(), ping.output());
            assertTrue(ping.output().contains("3 packets transmitted, 3 received"), ping.output());

            // TCP both ways on the veth's default offloads, where the kernel leaves inner checksums partial
            // and hands the veth whole super-packets: what the kernel does with its own flannel.1.
            // One second each way shows the stream gets through; speed is measured in benchmarks.
            double ab = Hosts.iperf3(nsA, a.podAddress(), nsB, b.podAddress(), 1, false);
            double ba = Hosts.iperf3(nsA, a.podAddress(), nsB, b.podAddress(), 1, true);
            System.out.printf("kernel vxlan on a default veth, TCP 1 s: a -> b %.2f Gbit/s, b -> a %.2f Gbit/s (noisy shared machine)%n",
                    ab / 1e9, ba / 1e9);
            assertTrue(ab > 10e6, "TCP a -> b: " + ab + " bit/s");
            assertTrue(ba > 10e6, "TCP b -> a: " + ba + " bit/s");

            // The traffic really went through flannel.1 as VXLAN: its counters moved on both sides.
            for (NetNamespace ns : new NetNamespace[] {nsA, nsB}) {
                var stats = Hosts.json("ip", "-j", "-s", "-n", ns.name(), "link", "show", "dev", "flannel.1").get(0).get("stats64");
                assertTrue(stats.get("tx").get("packets").asLong() >= 3, ns + " " + stats);
                assertTrue(stats.get("rx").get("packets").asLong() >= 3, ns + " " + stats);
            }
        }
    }

    // Underlay address, flannel.1 (mtu 1450, the VTEP /32), a pod address on lo; returns the VTEP MAC.
    private static MacAddress setUpNode(Node n) throws Exception {
        n.ns().run(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.addAddress(n.underlayDevice(), n.underlayAddress(), 24);
                nl.setUp(n.underlayDevice(), true);
            }
        });
        Hosts.run("ip", "-n", n.ns().name(), "link", "add", "flannel.1", "type", "vxlan", "id", "1",
                "local", Ipv4Address.toString(n.underlayAddress()), "dev", n.underlayDevice(), "dstport", "8472", "nolearning");
        return n.ns().call(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.setMtu("flannel.1", 1450);
                nl.setUp("flannel.1", true);
                nl.addAddress("flannel.1", n.vtepAddress(), 32);
                nl.addAddress("lo", n.podAddress(), 32);
                Link vtep = nl.link("flannel.1");
                assertEquals(1450, vtep.mtu());
                assertNotNull(vtep.mac());
                return vtep.mac();
            }
        });
    }

    // What flanneld does when a peer's lease appears: neighbor, FDB entry, onlink route.
    private static void addPeer(Node self, Node peer, MacAddress peerMac) throws Exception {
        self.ns().run(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.replaceNeighbor("flannel.1", peer.vtepAddress(), peerMac);
                nl.appendFdb("flannel.1", peerMac, peer.underlayAddress());
                nl.addRoute(Route.onlink(peer.subnet(), peer.vtepAddress(), "flannel.1"));
            }
        });
    }
}
