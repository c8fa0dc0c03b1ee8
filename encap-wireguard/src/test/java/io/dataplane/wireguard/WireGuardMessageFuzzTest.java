package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Any datagram to a node with an established session, as {@link WireGuardDevice#decap} parses it:
 * the four message types, their lengths, mac1, receiver indices, the transport header and, once
 * decrypted, the inner IPv4 header. Four shapes, chosen by the input:
 *
 * <ul>
 *   <li>raw bytes from the peer's endpoint: the verdict recomputed from the bytes (wrong type or
 *       length, mac1 that cannot verify, receiver index unknown), never FORWARD, REPLY or CONSUMED;
 *   <li>the same with the session's real receiver index spliced in at offset 4: a transport message
 *       is replayed or fails authentication, a cookie reply fails to decrypt;
 *   <li>an initiation or response with a valid mac1 (the Noise step is reached): it fails to
 *       verify or names no handshake, and no session changes;
 *   <li>a payload sealed by the real peer (the inner packet parser behind authentication): a
 *       keepalive, a drop under the reason the inner header earns, or FORWARD of exactly the inner
 *       packet when its source is in the peer's allowed IPs.
 * </ul>
 *
 * Every buffer comes back to the pool after each input.
 */
class WireGuardMessageFuzzTest {
    /** The node pair, handshake done; never under load, so each verdict is exact. */
    private static final WireGuardPair PAIR = established();
    private static final Ipv4Prefix ALLOWED_FROM_A = Ipv4Prefix.parse("10.244.1.0/24");
    private static final Set<Integer> AUTH_FAILURES =
            Set.of(DropReason.WG_REPLAY.ordinal(), DropReason.WG_DECRYPT_FAILED.ordinal());

    private static WireGuardPair established() {
        WireGuardPair pair = new WireGuardPair(WireGuardTimings.DEFAULT, Integer.MAX_VALUE, PresharedKey.NONE, PresharedKey.NONE);
        pair.handshake();
        assertTrue(pair.b.peer.current != null, "handshake completed");
        return pair;
    }

    @FuzzTest
    void decap(FuzzedDataProvider data) {
        WireGuardPair w = PAIR;
        int shape = data.consumeInt(0, 3);
        byte[] bytes = data.consumeBytes(1600);
        Keypair session = w.b.peer.current;
        switch (shape) {
            case 0 -> raw(w, bytes);
            case 1 -> {
                if (bytes.length >= 8) Le.putInt(bytes, 4, session.localIndex);
                raw(w, bytes);
            }
            case 2 -> withMac1(w, bytes);
            default -> sealed(w, Arrays.copyOf(bytes, Math.min(bytes.length, WireGuardConfig.DEFAULT_MTU)));
        }
        assertTrue(w.b.peer.current == session, "no input replaces the session");
        w.a.takeOutbox();
        w.b.takeOutbox();
        w.b.tun.clear();
        assertEquals(0, w.pool.outstanding(), "buffers outstanding after the input");
    }

    private static void raw(WireGuardPair w, byte[] m) {
        int verdict = w.b.receive(m, w.a.address, w.a.port);
        int expected = expectedUnauthenticated(w, m);
        if (expected == DropReason.WG_DECRYPT_FAILED.ordinal()) {
            assertTrue(AUTH_FAILURES.contains(verdict), "transport with a live index: " + DropReason.of(verdict));
        } else {
            assertEquals(expected, verdict, "verdict " + name(verdict) + " for " + m.length + " bytes");
        }
    }

    /** What decap says to bytes nobody authenticated; WG_DECRYPT_FAILED stands for "replayed or unauthentic". */
    private static int expectedUnauthenticated(WireGuardPair w, byte[] m) {
        int bad = DropReason.WG_BAD_MESSAGE.ordinal();
        if (m.length < 4) return bad;
        return switch (Le.getInt(m, 0)) {
            case MessageType.INITIATION -> m.length == MessageType.INITIATION_LEN ? DropReason.WG_BAD_MAC1.ordinal() : bad;
            case MessageType.RESPONSE -> m.length == MessageType.RESPONSE_LEN ? DropReason.WG_BAD_MAC1.ordinal() : bad;
            case MessageType.COOKIE_REPLY -> m.length != MessageType.COOKIE_REPLY_LEN ? bad
                    : w.b.device.indexTable().lookup(Le.getInt(m, CookieReplyMessage.RECEIVER)) != null
                            ? DropReason.WG_BAD_COOKIE.ordinal() : DropReason.WG_UNKNOWN_RECEIVER.ordinal();
            case MessageType.TRANSPORT -> m.length < MessageType.KEEPALIVE_LEN ? bad
                    : w.b.device.indexTable().lookup(Le.getInt(m, TransportHeader.RECEIVER)) instanceof Keypair
                            ? DropReason.WG_DECRYPT_FAILED.ordinal() : DropReason.WG_UNKNOWN_RECEIVER.ordinal();
            default -> bad;
        };
    }

    private static void withMac1(WireGuardPair w, byte[] bytes) {
        boolean initiation = bytes.length == 0 || (bytes[0] & 1) == 0;
        byte[] m = Arrays.copyOf(bytes, initiation ? MessageType.INITIATION_LEN : MessageType.RESPONSE_LEN);
        Le.putInt(m, 0, initiation ? MessageType.INITIATION : MessageType.RESPONSE);
        w.a.peer.cookieGenerator.addMacs(m, w.clock.nanoTime(), WireGuardTimings.DEFAULT);
        int verdict = w.b.receive(m, w.a.address, w.a.port);
        List<Integer> allowed = initiation ? List.of(DropReason.WG_BAD_HANDSHAKE.ordinal())
                : List.of(DropReason.WG_UNKNOWN_RECEIVER.ordinal(), DropReason.WG_BAD_HANDSHAKE.ordinal());
        assertTrue(allowed.contains(verdict), (initiation ? "initiation" : "response") + " with valid mac1: " + name(verdict));
    }

    private static void sealed(WireGuardPair w, byte[] inner) {
        if (inner.length == 0) {
            assertEquals(DropReason.TRUNCATED.ordinal(), w.a.send(inner), "empty inner packet");
            return;
        }
        assertEquals(Encapsulation.FORWARD, w.a.send(inner));
        List<byte[]> sent = w.a.takeOutbox();
        assertEquals(1, sent.size());
        int verdict = w.b.receive(sent.get(0), w.a.address, w.a.port);
        // The receiver sees the inner packet zero-padded as the sender sealed it.
        byte[] p = Arrays.copyOf(inner, TransportCodec.paddedLength(inner.length, WireGuardConfig.DEFAULT_MTU));
        int expected;
        int totalLen = p.length >= 4 ? (p[2] & 0xff) << 8 | (p[3] & 0xff) : 0;
        if ((p[0] & 0xf0) != 0x40) {
            expected = DropReason.NOT_IPV4.ordinal();
        } else if (p.length < 20) {
            expected = DropReason.TRUNCATED.ordinal();
        } else if (totalLen < 20 || totalLen > p.length) {
            expected = DropReason.BAD_TOTAL_LENGTH.ordinal();
        } else if (!ALLOWED_FROM_A.contains(java.nio.ByteBuffer.wrap(p, 12, 4).getInt())) {
            expected = DropReason.WG_NOT_ALLOWED_SOURCE.ordinal();
        } else {
            expected = Encapsulation.FORWARD;
        }
        assertEquals(expected, verdict, "sealed inner of " + inner.length + " bytes: " + name(verdict));
        if (verdict == Encapsulation.FORWARD) {
            assertEquals(1, w.b.tun.size());
            assertArrayEquals(Arrays.copyOf(p, totalLen), w.b.tun.get(0), "the inner packet, exactly");
        }
    }

    private static String name(int verdict) {
        return verdict >= 0 ? DropReason.of(verdict).name() : "verdict " + verdict;
    }
}
