package io.dataplane.ipip;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.BackendConformanceTest;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Header;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ipip backend against the backend conformance suite (its own sockets are raw IP sockets, which
 * need CAP_NET_RAW: the build runs as root), and what is its own: the outer header's drop reasons,
 * a removed peer's packets dropped as NO_ROUTE and its datagrams as from an unknown peer.
 */
class IpipBackendConformanceTest extends BackendConformanceTest {
    static final int MTU = 1480;

    @Override
    protected BackendConf conf(int port) {
        return BackendConf.defaults(BackendType.IPIP);
    }

    @Override
    protected int tunMtu() {
        return MTU;
    }

    @Override
    protected Backend open(BackendContext context, TransportFactory transports) throws IOException {
        return transports == null ? IpipBackend.open(context) : IpipBackend.open(context, IpipOptions.defaults().withTransports(transports));
    }

    /** An IP-in-IP datagram as node {@code from} would send {@code inner} (outer header from the tunnel's own rules). */
    @Override
    protected byte[] datagram(int from, int to, byte[] inner) {
        byte[] frame = new byte[20 + inner.length];
        System.arraycopy(inner, 0, frame, 20, inner.length);
        new Ipv4Header().wrap(MemorySegment.ofArray(frame), 0).setVersion4AndIhl(5).setTotalLength(frame.length).setTtl(64)
                .setProtocol(Ipv4Header.PROTO_IPIP).setSrcAddr(from).setDstAddr(to).fillChecksum();
        return frame;
    }

    @Override
    protected Map<DropReason, byte[]> badDatagrams() {
        byte[] good = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 1, 1, 56);
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        byte[] wrongProtocol = datagram(underlay(1), underlay(2), good);
        wrongProtocol[9] = Ipv4Header.PROTO_UDP;
        new Ipv4Header().wrap(MemorySegment.ofArray(wrongProtocol), 0).fillChecksum();
        bad.put(DropReason.IPIP_BAD_OUTER, wrongProtocol);
        byte[] badOuterChecksum = datagram(underlay(1), underlay(2), good);
        badOuterChecksum[10] ^= 0x55;
        bad.put(DropReason.BAD_CHECKSUM, badOuterChecksum);
        bad.put(DropReason.TRUNCATED, new byte[] {0x45, 0, 0, 10});
        byte[] expired = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 0, 1, 1, 8);
        bad.put(DropReason.TTL_EXPIRED, datagram(underlay(1), underlay(2), expired));
        byte[] v6 = datagram(underlay(1), underlay(2), good);
        v6[20] = 0x60;
        bad.put(DropReason.NOT_IPV4, v6);
        return bad;
    }

    @Test
    void aRemovedPeersPacketsHaveNoRouteAndItsDatagramsNoWayIn() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        FakeNode c = node(3);
        connect(a, b);
        connect(a, c);
        a.backend().removePeer(subnet(2));
        a.tun().inject(TestPackets.udp(pod(1, 5), pod(2, 7), 64, 40000, 2, 32));
        a.tun().inject(TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, 2, 32));
        take(c);
        await(() -> a.dropped(DropReason.NO_ROUTE) == 1, "the removed peer's packet dropped as NO_ROUTE");
        assertEquals(null, b.tun().awaitWritten(Duration.ofMillis(100)));
        // B still knows A, but A no longer takes B's datagrams.
        b.tun().inject(TestPackets.udp(pod(2, 7), pod(1, 5), 64, 40000, 3, 32));
        await(() -> a.dropped(DropReason.UNKNOWN_PEER) == 1, "B's datagram dropped as from an unknown peer");
    }
}
