package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.tun.testing.ReceiveFuzzing;
import io.dataplane.tun.testing.TunnelUnderTest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The WireGuard tunnel the path fuzz tests drive: node A of a {@link WireGuardPair} (ours, {@link
 * TunnelUnderTest#SELF}) with a live session with its real peer B ({@link TunnelUnderTest#PEER}),
 * one device for every input, as a node keeps its session. B seals what A receives, with its
 * session's next counters, and opens what A sends: a datagram A sends carries what B's session
 * opens, and its counter is above every counter A sent before (no nonce used twice).
 */
final class WireGuardFuzzing {
    private static final int MTU = WireGuardConfig.DEFAULT_MTU;
    // Sealing and opening room: the largest message, a 64 KiB inner packet with its header, padding and tag.
    private static final PacketPool SCRATCH = new PacketPool(1, 65536 + 2 * PacketPool.DEFAULT_HEADROOM, PacketPool.DEFAULT_HEADROOM);

    final WireGuardPair pair = new WireGuardPair(WireGuardTimings.DEFAULT, Integer.MAX_VALUE, PresharedKey.NONE, PresharedKey.NONE);
    private final Keypair sessionOfA;
    private final Keypair sessionOfB;
    // What B sealed, message to padded plaintext: the latest 16384, more than one input seals.
    private final Map<ByteBuffer, byte[]> sealedByB = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, byte[]> eldest) {
            return size() > 1 << 14;
        }
    };
    private long lastOpened = -1;

    WireGuardFuzzing() {
        pair.handshake();
        sessionOfA = pair.a.peer.current;
        sessionOfB = pair.b.peer.current;
        assertTrue(sessionOfA != null && sessionOfB != null, "handshake completed");
        pair.a.takeOutbox();
        pair.b.takeOutbox();
    }

    /** A's send path: what A sends is opened by B's session. */
    TunnelUnderTest sending() {
        return new TunnelUnderTest(() -> pair.a.device, pair.a.peer.id(), MTU, pair.b.port, this::sealedByB,
                d -> MessageType.TRANSPORT_HEADER_LEN, this::openedByB, n -> TransportCodec.paddedLength(n, MTU), true, true);
    }

    /** A's receive path: datagrams B sealed, recognised by their bytes. */
    TunnelUnderTest receiving() {
        return new TunnelUnderTest(() -> pair.a.device, pair.a.peer.id(), MTU, pair.b.port, this::sealedByB,
                d -> MessageType.TRANSPORT_HEADER_LEN, d -> sealedByB.get(ByteBuffer.wrap(d)),
                n -> TransportCodec.paddedLength(n, MTU), true, true);
    }

    // An inner packet sealed by B for A with the next counter of B's session, as a message on the wire.
    private byte[] sealedByB(byte[] inner) {
        PacketBuffer p = SCRATCH.acquire();
        try {
            p.put(inner);
            TransportCodec.seal(sessionOfB, sessionOfB.nextSendCounter(), p, MTU);
            byte[] message = p.toByteArray();
            sealedByB.put(ByteBuffer.wrap(message.clone()), Arrays.copyOf(inner, TransportCodec.paddedLength(inner.length, MTU)));
            return message;
        } finally {
            p.release();
        }
    }

    // What B's session opens of a datagram A sent: its padded plaintext, or null; its counter above all opened before.
    private byte[] openedByB(byte[] d) {
        if (d.length < MessageType.KEEPALIVE_LEN || Le.getInt(d, 0) != MessageType.TRANSPORT || Le.getInt(d, 4) != sessionOfB.localIndex) return null;
        long counter = ByteBuffer.wrap(d, 8, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue(Long.compareUnsigned(counter, lastOpened) > 0 || lastOpened == -1,
                "counter " + counter + " sent after " + lastOpened + ": a nonce used again or out of order");
        PacketBuffer p = SCRATCH.acquire();
        try {
            p.put(d);
            if (TransportCodec.open(sessionOfB, counter, p) >= 0) return null;
            lastOpened = counter;
            return Arrays.copyOfRange(p.toByteArray(), MessageType.TRANSPORT_HEADER_LEN, d.length - MessageType.TAG_LEN);
        } finally {
            p.release();
        }
    }

    /**
     * Nothing good lost to authentication: the datagrams dropped as replayed, unauthentic, of no
     * session or malformed are at most those received that repeat an earlier one or are no message
     * as B sealed it (a cut or corrupt copy of a message already taken is refused as a replay,
     * before it is authenticated, as wireguard-go does).
     */
    void noneGoodRefused(ReceiveFuzzing.Received r) {
        Set<ByteBuffer> seen = new HashSet<>();
        int repeats = 0;
        int unsealed = 0;
        for (byte[] d : r.datagrams()) {
            ByteBuffer key = ByteBuffer.wrap(d);
            if (!seen.add(key)) {
                repeats++;
            } else if (!sealedByB.containsKey(key)) {
                unsealed++;
            }
        }
        Counters c = r.counters();
        long replayed = c.dropped(DropReason.WG_REPLAY);
        long unauthentic = c.dropped(DropReason.WG_DECRYPT_FAILED) + c.dropped(DropReason.WG_BAD_MESSAGE) + c.dropped(DropReason.WG_UNKNOWN_RECEIVER);
        assertTrue(replayed + unauthentic <= repeats + unsealed,
                replayed + " replayed + " + unauthentic + " unauthentic drops, of " + repeats + " repeated and " + unsealed + " not sealed by the peer");
    }

    /** After an input: the session stands, nothing waits in an outbox, every buffer of the pair back. */
    void settled() {
        assertTrue(pair.a.peer.current == sessionOfA && pair.b.peer.current == sessionOfB, "no input replaces a session");
        pair.a.takeOutbox();
        pair.b.takeOutbox();
        assertEquals(0, pair.pool.outstanding(), "the pair's buffers outstanding after the input");
    }
}
