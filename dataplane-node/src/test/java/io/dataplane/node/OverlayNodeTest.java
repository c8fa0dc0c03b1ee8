package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.testing.Hosts;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The node's own life in a namespace of the test's: what start makes (TUN, address, MTU, route),
 * what it refuses and that a refused start leaves nothing behind, peers, and close from several
 * threads at once.
 */
class OverlayNodeTest {
    private Testbed bed;
    private Testbed.Host host;

    @BeforeEach
    void setUp() throws Exception {
        bed = Testbed.hosts(2);
        host = bed.host(1);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (bed != null) bed.close();
    }

    private static NetConf net(String backend) {
        return NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\"}}");
    }

    private List<String> links() throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode l : Hosts.json("ip", "-j", "-n", host.name(), "link", "show")) names.add(l.get("ifname").asText());
        return names;
    }

    @Test
    void vxlanNodeMakesFlannelsDeviceAndCloseRemovesItAndItsRoute() throws Exception {
        OverlayNode node = bed.start(host, bed.config(host, net("vxlan")).withVtepMac(MacAddress.parse("02:00:0a:f4:01:00")));
        assertEquals("flannel.1", node.tunName());
        assertTrue(node.isRunning());
        VxlanInteropTest.assertDeviceAsFlannelMakesIt(host, node);
        assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"vxlan\","
                + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:0a:f4:01:00\"}}", node.localLease().toJson());
        assertEquals(8472, node.port());

        // Two threads close at once (an agent's own shutdown and its shutdown hook, say).
        CountDownLatch go = new CountDownLatch(1);
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            node.close();
        });
        go.countDown();
        node.close();
        other.join();
        node.close();
        assertFalse(node.isRunning());
        assertEquals(0, node.buffersInUse());
        assertFalse(links().contains("flannel.1"), links().toString());
        for (JsonNode r : Hosts.json("ip", "-j", "-n", host.name(), "route", "show")) {
            assertFalse(r.get("dst").asText().startsWith("10.244."), "route left behind: " + r);
        }
        assertThrows(IllegalStateException.class, () -> node.addPeer(Lease.parse(
                "{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"vxlan\","
                        + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:0a:f4:02:00\"}}")));
    }

    @Test
    void hostGwNodeMakesNoDeviceAndRunsNoPacketPath() throws Exception {
        List<String> before = links();
        OverlayNode node = bed.start(host, bed.config(host, net("host-gw")));
        assertEquals(before, links(), "host-gw makes no TUN");
        assertEquals(null, node.tunName());
        assertEquals(1500, node.tunMtu(), "pods use the underlay's MTU");
        assertEquals(0, node.port());
        assertEquals(0, node.stats().buffers());
        assertTrue(node.isRunning());
        assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"host-gw\"}", node.localLease().toJson());
        assertEquals(0, Hosts.json("ip", "-j", "-n", host.name(), "route", "show", "10.244.0.0/16").size(), "no route of the network");
        node.close();
        assertFalse(node.isRunning());
        assertThrows(IllegalStateException.class, () -> node.addPeer(Lease.parse(
                "{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"host-gw\"}")));
    }

    @Test
    void mtuComesFromTheBackendsMtuOrIsFixed() throws Exception {
        Hosts.run("ip", "-n", host.name(), "link", "set", host.underlay(), "mtu", "1400");
        NetConf withMtu = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\", \"MTU\": 1300}}");
        try (OverlayNode node = bed.start(host, bed.config(host, withMtu))) {
            assertEquals(1300, node.underlayMtu());
            assertEquals(1300 - 28, node.tunMtu());
        }
        try (OverlayNode node = bed.start(host, bed.config(host, net("vxlan")))) {
            assertEquals(1400, node.underlayMtu(), "the MTU of the interface that holds the public IP");
            assertEquals(1350, node.tunMtu());
            assertEquals(65535, gsoMaxSegments("flannel.1"),
                    "no bound on the TUN's super-packets: a lower one makes the kernel cut forwarded pods' super-packets into single packets");
        }
        try (OverlayNode node = bed.start(host, bed.config(host, net("ipip")))) {
            assertEquals("flannel.ipip", node.tunName());
            assertEquals(1380, node.tunMtu(), "ipip: 20 bytes of outer header");
            assertEquals(1380, Hosts.json("ip", "-j", "-n", host.name(), "link", "show", "dev", "flannel.ipip").get(0).get("mtu").asInt());
            assertEquals(0, node.port(), "a raw socket has no port");
        }
        try (OverlayNode node = bed.start(host, bed.config(host, net("udp")).withTunMtu(1200).withTunName("dptun0")
                .withPacketPath(PacketPathOptions.defaults().withTunQueueLength(0)))) {
            assertEquals("dptun0", node.tunName());
            assertEquals(1200, node.tunMtu());
            JsonNode link = Hosts.json("ip", "-j", "-n", host.name(), "link", "show", "dev", "dptun0").get(0);
            assertEquals(1200, link.get("mtu").asInt());
            assertEquals(500, link.get("txqlen").asInt(), "queue length 0 keeps the kernel's default");
        }
    }

    @Test
    void refusedStartsNameTheProblemAndLeaveNothingBehind() throws Exception {
        List<String> before = links();

        NodeConfig notLocal = NodeConfig.of(net("vxlan"), host.subnet(), Ipv4Address.parse("192.0.2.99"))
                .withStateDir(bed.config(host, net("vxlan")).stateDir());
        ConfigException e = assertThrows(ConfigException.class, () -> bed.start(host, notLocal));
        assertEquals("publicIp", e.field());
        assertTrue(e.detail().startsWith("public IP is no address of this host: publicIp=192.0.2.99"), e.getMessage());

        Hosts.run("ip", "-n", host.name(), "link", "set", host.underlay(), "mtu", "100");
        ConfigException mtu = assertThrows(ConfigException.class, () -> bed.start(host, bed.config(host, net("vxlan"))));
        assertEquals("Backend.MTU: underlay MTU leaves no room for the vxlan overhead: 100 (the MTU of veth0, the public IP's"
                + " interface) - 50 = 50 (min 68)", mtu.getMessage());
        Hosts.run("ip", "-n", host.name(), "link", "set", host.underlay(), "mtu", "1500");

        // The port is taken: the socket cannot bind, and the TUN made before it is removed again.
        try (DatagramChannel squatter = host.ns().call(() -> DatagramChannel.open()
                .bind(new java.net.InetSocketAddress(Ipv4Address.toInetAddress(host.address()), 8285)))) {
            ErrnoException inUse = assertThrows(ErrnoException.class, () -> bed.start(host, bed.config(host, net("udp"))));
            assertTrue(inUse.getMessage().contains("192.0.2.1:8285") && inUse.getMessage().contains("EADDRINUSE"), inUse.getMessage());
        }
        assertEquals(before, links(), "a refused start left a device behind");
        assertEquals(0, Hosts.json("ip", "-j", "-n", host.name(), "route", "show", "10.244.0.0/16").size());
    }

    @Test
    void defaultPublicIpIsTheFirstAddressOfTheDefaultRoutesInterfaceAsFlanneldTakesIt() throws Exception {
        ConfigException none = assertThrows(ConfigException.class, () -> host.ns().call(OverlayNode::defaultPublicIp));
        assertEquals("publicIp: no default route to take the public IP from", none.getMessage());

        Hosts.run("ip", "-n", host.name(), "route", "add", "default", "via", "192.0.2.254", "dev", host.underlay());
        assertEquals(host.address(), (int) host.ns().call(OverlayNode::defaultPublicIp));
        // A second address on the interface: flanneld keeps the first.
        Hosts.run("ip", "-n", host.name(), "addr", "add", "192.0.2.77/24", "dev", host.underlay());
        assertEquals(host.address(), (int) host.ns().call(OverlayNode::defaultPublicIp));

        // A default route straight out of an interface without an IPv4 address.
        Hosts.run("ip", "-n", host.name(), "route", "del", "default");
        Hosts.run("ip", "-n", host.name(), "link", "add", "dpnoaddr", "type", "veth", "peer", "name", "dpnoaddr1");
        Hosts.run("ip", "-n", host.name(), "link", "set", "dpnoaddr", "up");
        Hosts.run("ip", "-n", host.name(), "route", "add", "default", "dev", "dpnoaddr");
        ConfigException noAddress = assertThrows(ConfigException.class, () -> host.ns().call(OverlayNode::defaultPublicIp));
        assertTrue(noAddress.detail().startsWith("the interface of the default route has no IPv4 address to take as the public IP: dpnoaddr"),
                noAddress.getMessage());
    }

    @Test
    void peersComeAndGoAndLeasesThatDoNotFitAreRefused() throws Exception {
        OverlayNode node = bed.start(host, bed.config(host, net("udp")));
        Lease peer = Lease.of(Ipv4Prefix.parse("10.244.2.0/24"), Ipv4Address.parse("192.0.2.2"), io.dataplane.core.config.BackendType.UDP);
        node.addPeer(peer);
        node.addPeer(node.localLease()); // our own lease, back from a watch: ignored
        assertEquals(List.of(peer), node.peers());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> node.addPeer(Lease.parse(
                "{\"Subnet\":\"10.244.3.0/24\",\"PublicIP\":\"192.0.2.3\",\"BackendType\":\"vxlan\","
                        + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:0a:f4:03:00\"}}")));
        assertTrue(other.getMessage().contains("BackendType=vxlan"), other.getMessage());
        assertTrue(node.removePeer(peer.subnet()));
        assertFalse(node.removePeer(peer.subnet()));
        assertEquals(List.of(), node.peers());
        NodeStats stats = node.stats();
        assertEquals(0, stats.droppedTotal(), stats.toString());
        assertTrue(stats.buffers() > 0 && stats.buffersInUse() <= stats.buffers(), stats.toString());
        node.close();
        assertEquals(0, node.buffersInUse());
    }

    @Test
    void theTunMtuFollowsTheUnderlaysAsFarAsTheMtuTheNodeStartedWith() throws Exception {
        OverlayNode node = bed.start(host, bed.config(host, net("vxlan")));
        assertEquals(1450, node.tunMtu());
        setUnderlayMtu(host, 1400);
        awaitTunMtu(node, 1350);
        assertEquals(1400, node.underlayMtu());
        setUnderlayMtu(host, 1500);
        awaitTunMtu(node, 1450);
        // Above the start's MTU the buffers hold no more: the TUN stays at what they hold.
        setUnderlayMtu(host, 9000);
        awaitUnderlayMtu(node, 9000);
        assertEquals(1450, node.tunMtu());
        assertEquals(1450, Testbed.linkMtu(host, "flannel.1"));
        // No room for the overhead: the TUN keeps its MTU.
        setUnderlayMtu(host, 100);
        awaitLinkMtu(node, 100);
        assertEquals(1450, Testbed.linkMtu(host, "flannel.1"));
        setUnderlayMtu(host, 1400);
        awaitTunMtu(node, 1350);
        node.close();

        // A configured MTU (Backend.MTU) stays as configured.
        Testbed.Host other = bed.host(2);
        OverlayNode fixed = bed.start(other, bed.config(other, NetConf.parse(
                "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"MTU\": 1500}}")));
        assertEquals(1450, fixed.tunMtu());
        setUnderlayMtu(other, 1300);
        awaitLinkMtu(fixed, 1300);
        assertEquals(1450, fixed.tunMtu());
        assertEquals(1450, Testbed.linkMtu(other, "flannel.1"));
    }

    private int gsoMaxSegments(String device) throws Exception {
        return Hosts.json("ip", "-j", "-d", "-n", host.name(), "link", "show", "dev", device).get(0).get("gso_max_segs").asInt();
    }

    private static void setUnderlayMtu(Testbed.Host h, int mtu) throws Exception {
        Hosts.run("ip", "-n", h.name(), "link", "set", h.underlay(), "mtu", String.valueOf(mtu));
    }

    private void awaitTunMtu(OverlayNode node, int mtu) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (node.tunMtu() != mtu || Testbed.linkMtu(host, node.tunName()) != mtu) {
            assertTrue(System.nanoTime() < deadline, "TUN MTU " + Testbed.linkMtu(host, node.tunName()) + " (node says " + node.tunMtu() + "), not " + mtu);
            Thread.sleep(20);
        }
    }

    // The watch heard the underlay's MTU: what the TUN does about it has been done.
    private static void awaitLinkMtu(OverlayNode node, int mtu) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (node.underlayLinkMtu() != mtu) {
            assertTrue(System.nanoTime() < deadline, "the MTU watch heard " + node.underlayLinkMtu() + ", not " + mtu);
            Thread.sleep(20);
        }
    }

    private static void awaitUnderlayMtu(OverlayNode node, int mtu) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (node.underlayMtu() != mtu) {
            assertTrue(System.nanoTime() < deadline, "underlay MTU " + node.underlayMtu() + ", not " + mtu);
            Thread.sleep(20);
        }
    }
}
