package io.dataplane.vxlan;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.BackendConformanceTest;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.KernelPartialPackets;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.ArpRepr;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.MacAddress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Our VTEP against the backend conformance suite, and what is its own: the VXLAN header's drop
 * reasons, a removed peer's packets dropped at the route lookup with no half-programmed peer on the
 * way, TTL 1 sent on as flannel.1 sends it, ARP inside VXLAN answered.
 */
class VxlanBackendConformanceTest extends BackendConformanceTest {
    static final int MTU = 1450;

    @Override
    protected BackendConf conf(int port) {
        return port == 0 ? BackendConf.defaults(BackendType.VXLAN) : new BackendConf(BackendType.VXLAN, 1, port, false, false, false, 0, null, 0, 0);
    }

    @Override
    protected int tunMtu() {
        return MTU;
    }

    /** Node i's VTEP MAC is 02:00:00:00:00:i. */
    @Override
    protected Backend open(BackendContext context, TransportFactory transports) throws IOException {
        VxlanOptions options = VxlanOptions.defaults().withVtepMac(mac(context.publicIp() & 0xff));
        return VxlanBackend.open(context, transports == null ? options : options.withTransports(transports));
    }

    static MacAddress mac(int i) {
        return new MacAddress(0x0200_0000_0000L | i);
    }

    @Override
    protected byte[] datagram(int from, int to, byte[] inner) {
        return VxlanFrames.datagram(1, mac(to & 0xff), mac(from & 0xff), EthernetHeader.ETHERTYPE_IPV4, inner);
    }

    @Override
    protected Map<DropReason, byte[]> badDatagrams() {
        MacAddress ours = mac(2);
        MacAddress peer = mac(1);
        byte[] ping = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, 56);
        byte[] garbageInside = new byte[60];
        new SplittableRandom(1).nextBytes(garbageInside);
        garbageInside[0] = 0x15; // version 1
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        bad.put(DropReason.TRUNCATED, new byte[10]);
        byte[] flags = VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4, ping);
        flags[0] = 0x00;
        bad.put(DropReason.VXLAN_BAD_FLAGS, flags);
        bad.put(DropReason.VXLAN_UNKNOWN_VNI, VxlanFrames.datagram(2, ours, peer, EthernetHeader.ETHERTYPE_IPV4, ping));
        bad.put(DropReason.VXLAN_NOT_OUR_MAC, VxlanFrames.datagram(1, mac(9), peer, EthernetHeader.ETHERTYPE_IPV4, ping));
        bad.put(DropReason.VXLAN_BAD_ETHERTYPE, VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV6, ping));
        bad.put(DropReason.NOT_IPV4, VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4, garbageInside));
        bad.put(DropReason.OVERSIZE, VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4,
                TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, MTU - 27)));
        return bad;
    }

    /** The removed peer's packets stopped at the route lookup; none met a peer with only some of its entries. */
    @Override
    protected void afterRemovalUnderLoad(FakeNode sender) {
        assertTrue(sender.dropped(DropReason.NO_ROUTE) > 0, "A no longer routed to C's subnet");
        assertEquals(0, sender.dropped(DropReason.NO_NEIGHBOR) + sender.dropped(DropReason.NO_FDB),
                "removal and re-adding leave no half-programmed peer");
    }

    @Test
    void noRouteAndTtlOneAsFlannel1() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(9, 9), 64, 1, 1, 8));
        byte[] ttl1 = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 1, 1, 3, 8);
        a.tun().inject(ttl1);
        // TTL 1 is sent on as flannel.1 sends it: the receiving kernel's forwarding expires it.
        assertArrayEquals(ttl1, take(b));
        await(() -> a.stats().droppedTotal() == 1, "one drop at A");
        assertEquals(1, a.dropped(DropReason.NO_ROUTE));
    }

    /** Node 2, connected to a node 1 (which sends nothing here). */
    private FakeNode nodeTwoOfAPair() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        return b;
    }

    @Test
    void aCorruptDatagramInsideATrainIsDroppedUnderItsReasonAndTheRestDelivered() throws Exception {
        FakeNode b = nodeTwoOfAPair();
        byte[] first = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 1, 56);
        byte[] third = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 3, 56);
        byte[] badFlags = VxlanFrames.datagram(1, mac(2), mac(1), EthernetHeader.ETHERTYPE_IPV4,
                TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 2, 56));
        badFlags[0] = 0x00;
        byte[] last = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 4, 20); // a train's last datagram may be shorter
        ByteArrayOutputStream train = new ByteArrayOutputStream();
        for (byte[] d : new byte[][] {datagram(underlay(1), underlay(2), first), badFlags, datagram(underlay(1), underlay(2), third),
                datagram(underlay(1), underlay(2), last)}) {
            train.writeBytes(d);
        }
        // As a socket with UDP GRO hands up A's UDP GSO message of four datagrams.
        assertTrue(b.transport().inject(train.toByteArray(), underlay(1), 8472, badFlags.length));
        assertArrayEquals(first, take(b));
        assertArrayEquals(third, take(b));
        assertArrayEquals(last, take(b));
        await(() -> b.stats().droppedTotal() == 1, "the corrupt datagram dropped");
        assertEquals(1, b.dropped(DropReason.VXLAN_BAD_FLAGS));
        assertNull(b.pipeline().failure());
    }

    @Test
    void aKernelVtepsUdpSuperPacketGoesIntoTheTunWhole() throws Exception {
        FakeNode b = nodeTwoOfAPair();
        byte[] big = KernelPartialPackets.udpSuperPacket(pod(1, 5), pod(2, 7), 1000);
        // The kernel reports the inner datagrams' payload size with it (SKB_GSO_UDP_L4 | SKB_GSO_UDP_TUNNEL).
        assertTrue(b.transport().inject(datagram(underlay(1), underlay(2), big), underlay(1), 8472, 300));
        assertArrayEquals(big, take(b), "one super-packet, not a train of 300-byte pieces");
        assertEquals(0, b.stats().droppedTotal());
    }

    @Test
    void anArpRequestInsideVxlanIsAnsweredToTheVxlanPort() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        byte[] request = VxlanFrames.datagram(1, MacAddress.BROADCAST, mac(2), EthernetHeader.ETHERTYPE_ARP,
                VxlanFrames.arp(ArpRepr.request(mac(2), subnet(2).address(), subnet(1).address())));
        // As B's kernel would send it: from B's address, from some hashed source port.
        assertTrue(a.transport().inject(request, underlay(2), 50123));
        // A's reply reaches B's VXLAN port; B, which asked nothing, ignores the reply.
        await(() -> b.dropped(DropReason.VXLAN_ARP_IGNORED) == 1, "the ARP reply at B");
        assertEquals(0, a.stats().droppedTotal());
        assertEquals(0, a.transport().counters().dropped(DropReason.SEND_FAILED));
        assertEquals(1, b.stats().droppedTotal());
        assertNull(a.pipeline().failure());
    }
}
