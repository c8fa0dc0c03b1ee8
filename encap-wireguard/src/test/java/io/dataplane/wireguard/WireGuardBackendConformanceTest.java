package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.BackendConformanceTest;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.TestPackets;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Our WireGuard backend against the backend conformance suite, and where it differs from the
 * others: a peer is known by the public key its lease carries, not by its address, so the first
 * packet to a peer waits for a handshake, and a datagram from a stranger is a transport message
 * for no session of ours ({@code WG_UNKNOWN_RECEIVER}) rather than one from an unknown address.
 */
class WireGuardBackendConformanceTest extends BackendConformanceTest {
    static final int MTU = 1420;

    @Override
    protected BackendConf conf(int port) {
        return port == 0 ? BackendConf.defaults(BackendType.WIREGUARD)
                : new BackendConf(BackendType.WIREGUARD, 0, 0, false, false, false, 0, null, port, 0);
    }

    @Override
    protected int tunMtu() {
        return MTU;
    }

    /** Each node's private key is made in its own state directory. */
    @Override
    protected Backend open(BackendContext context, TransportFactory transports) throws IOException {
        return transports == null ? WireGuardBackend.open(context) : WireGuardBackend.open(context, WireGuardOptions.defaults().withTransports(transports));
    }

    /**
     * A transport data message carrying {@code inner} in the clear for a receiver index no session
     * has: what a sender without a session can send (only a handshake makes the keys that seal a
     * real one).
     */
    @Override
    protected byte[] datagram(int from, int to, byte[] inner) {
        int padded = (inner.length + MessageType.PADDING_MULTIPLE - 1) / MessageType.PADDING_MULTIPLE * MessageType.PADDING_MULTIPLE;
        byte[] m = new byte[MessageType.TRANSPORT_HEADER_LEN + padded + MessageType.TAG_LEN];
        m[TransportHeader.TYPE] = MessageType.TRANSPORT;
        m[TransportHeader.RECEIVER] = (byte) 0xde; // little-endian 0x0bad..de: random indices miss it but for 1 in 2^32
        m[TransportHeader.RECEIVER + 1] = (byte) 0xc0;
        m[TransportHeader.RECEIVER + 2] = (byte) 0xad;
        m[TransportHeader.RECEIVER + 3] = (byte) 0x0b;
        System.arraycopy(inner, 0, m, MessageType.TRANSPORT_HEADER_LEN, inner.length);
        return m;
    }

    @Override
    protected DropReason strangerReason() {
        return DropReason.WG_UNKNOWN_RECEIVER;
    }

    /**
     * What can be told without a session: unknown message types and lengths, and an initiation whose
     * mac1 does not verify. (Forged and replayed transport data need a session's keys: BadInputTest
     * drives those through one device pair.)
     */
    @Override
    protected Map<DropReason, byte[]> badDatagrams() {
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        bad.put(DropReason.WG_BAD_MESSAGE, new byte[] {5, 0, 0, 0, 1, 2, 3, 4});
        byte[] initiation = new byte[MessageType.INITIATION_LEN];
        initiation[0] = MessageType.INITIATION;
        initiation[40] = 7;
        bad.put(DropReason.WG_BAD_MAC1, initiation);
        return bad;
    }

    @Test
    void theLeaseCarriesTheKeyAndTheFirstPacketWaitsForTheHandshake() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        Lease leaseB = b.backend().localLease();
        String keyA = a.backend().localLease().wireguard().publicKey();
        assertNotEquals(keyA, leaseB.wireguard().publicKey(), "each node its own key");
        assertEquals(BackendConf.DEFAULT_WIREGUARD_PORT, leaseB.wireguard().port());
        connect(a, b);
        byte[] request = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 3, 1, 56);
        a.tun().inject(request);
        assertArrayEquals(request, take(b), "the first packet waits for the handshake, then goes");
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal());
    }

    /**
     * WireGuard counts each peer in its device, by key, as {@code wg show} prints it: the bytes of
     * the transport messages sent to and taken from the peer. Datagrams that fail are nobody's: a
     * WireGuard peer is known by its session, never by the address a datagram comes from.
     */
    @Override
    @Test
    protected void eachPeerCountsItsPacketsBytesAndDropsEachWay() throws Exception {
        PeerTraffic t = peerTraffic();
        FakeNode a = t.a(), b = t.b(), c = t.c();
        int toB = PeerTraffic.TO_B, toC = PeerTraffic.TO_C, fromB = PeerTraffic.FROM_B;
        byte[] request = t.request(), reply = t.reply();
        WireGuardPeer bAtA = peerOf(a, b);
        WireGuardPeer cAtA = peerOf(a, c);
        WireGuardPeer aAtB = peerOf(b, a);
        assertEquals((long) toB * sealed(request.length), bAtA.txBytes());
        assertEquals((long) fromB * sealed(reply.length), bAtA.rxBytes());
        assertEquals((long) toC * sealed(request.length), cAtA.txBytes(), "C's messages on C's peer");
        assertEquals(0, cAtA.rxBytes(), "nothing from C yet");
        assertEquals((long) toB * sealed(request.length), aAtB.rxBytes());
        assertEquals((long) fromB * sealed(reply.length), aAtB.txBytes());
        assertNotEquals(0, bAtA.lastHandshakeEpochNanos(), "A's handshake with B");
        assertNotEquals(0, cAtA.lastHandshakeEpochNanos(), "A's handshake with C");
    }

    /** The peer {@code of} is at {@code at}, found by its public key. */
    private static WireGuardPeer peerOf(FakeNode at, FakeNode of) {
        WireGuardDevice device = ((WireGuardBackend) at.backend()).encapsulation();
        return device.peer(((WireGuardBackend) of.backend()).publicKey());
    }

    /** The length of the transport message that carries an inner packet of {@code inner} bytes. */
    private static int sealed(int inner) {
        int padded = (inner + MessageType.PADDING_MULTIPLE - 1) / MessageType.PADDING_MULTIPLE * MessageType.PADDING_MULTIPLE;
        return MessageType.TRANSPORT_HEADER_LEN + padded + MessageType.TAG_LEN;
    }
}
