package io.dataplane.udp;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.BackendConformanceTest;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * flannel's udp backend against the backend conformance suite, and what is its own: two TTL
 * decrements on the way (flannel's two proxies), ICMP net unreachable for a subnet without a route,
 * TTL 1 expired at the sender.
 */
class UdpBackendConformanceTest extends BackendConformanceTest {
    static final int MTU = 1472;

    @Override
    protected BackendConf conf(int port) {
        return port == 0 ? BackendConf.defaults(BackendType.UDP) : new BackendConf(BackendType.UDP, 0, port, false, false, false, 0, null, 0, 0);
    }

    @Override
    protected int tunMtu() {
        return MTU;
    }

    @Override
    protected Backend open(BackendContext context, TransportFactory transports) throws IOException {
        return transports == null ? UdpBackend.open(context) : UdpBackend.open(context, UdpOptions.defaults().withTransports(transports));
    }

    /** The inner packet is the datagram. */
    @Override
    protected byte[] datagram(int from, int to, byte[] inner) {
        return inner;
    }

    @Override
    protected Map<DropReason, byte[]> badDatagrams() {
        Map<DropReason, byte[]> bad = TestPackets.malformed(pod(1, 5), pod(2, 7), MTU);
        bad.put(DropReason.TTL_EXPIRED, TestPackets.echoRequest(pod(1, 5), pod(2, 7), 1, 9, 9, 56));
        return bad;
    }

    /** Two TTL decrements, as through flannel's two proxies. */
    @Override
    protected byte[] delivered(byte[] sent) {
        return ttlLess(sent, 2);
    }

    /** {@code packet} with its TTL lowered by {@code by} and the header checksum computed afresh. */
    static byte[] ttlLess(byte[] packet, int by) {
        byte[] copy = packet.clone();
        Ipv4Header ip = new Ipv4Header().wrap(MemorySegment.ofArray(copy), 0);
        ip.setTtl(ip.ttl() - by).fillChecksum();
        return copy;
    }

    @Test
    void packetsForARemovedPeerAreAnsweredWithNetUnreachable() throws Exception {
        FakeNode a = node(1);
        FakeNode c = node(3);
        connect(a, c);
        assertTrue(a.backend().removePeer(subnet(3)));
        byte[] lost = TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, 1, 32);
        a.tun().inject(lost);
        byte[] error = take(a);
        assertEquals(Ipv4Header.PROTO_ICMP, error[9]);
        assertEquals(Icmpv4Header.TYPE_DEST_UNREACHABLE, error[20]);
        assertEquals(pod(3, 7), new Ipv4Header().wrap(MemorySegment.ofArray(error), 28).dstAddr(), "quotes the packet for C");
        assertEquals(0, c.tun().writtenCount(), "nothing reached the removed peer");
    }

    @Test
    void badPacketsFromTheTun() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        byte[] lost = TestPackets.udp(pod(1, 5), pod(9, 9), 64, 40000, 53, 20);
        a.tun().inject(lost);
        byte[] error = take(a);
        assertEquals(Ipv4Address.parse("10.244.0.0"), new Ipv4Header().wrap(MemorySegment.ofArray(error), 0).srcAddr(),
                "the net unreachable comes from the network's address, which no node owns (never the TUN's: a martian)");
        assertArrayEquals(Arrays.copyOf(lost, 28), Arrays.copyOfRange(error, 28, error.length));
        a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 1, 1, 1, 8));
        byte[] fine = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 1, 3, 8);
        a.tun().inject(fine);
        assertArrayEquals(ttlLess(fine, 2), take(b));
        await(() -> a.stats().droppedTotal() == 1, "one drop at A");
        assertEquals(1, a.dropped(DropReason.TTL_EXPIRED));
        assertEquals(0, b.tun().writtenCount(), "the TTL 1 packet never reached B");
        assertEquals(1, ((UdpBackend) a.backend()).encapsulation().unreachablesSent());
    }
}
