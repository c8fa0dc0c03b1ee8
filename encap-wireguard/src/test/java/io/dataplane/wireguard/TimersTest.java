package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The protocol's timers, driven by a fake clock in 10 ms steps. */
class TimersTest {
    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    private static byte[] ping(int fill) {
        return Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, fill);
    }

    private static byte[] pong(int fill) {
        return Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 84, fill);
    }

    /** Advances {@code ms} in 10 ms steps, ticking and pumping at each. */
    private static void run(WireGuardPair w, long ms) {
        for (long t = 0; t < ms; t += 10) {
            w.clock.advanceMillis(10);
            w.tick();
            w.pump();
        }
    }

    @Test
    void retransmitEveryFiveSecondsWithJitterThenGiveUp() {
        try (WireGuardPair w = new WireGuardPair()) {
            List<Long> initiations = new ArrayList<>();
            w.wire = bytes -> {
                if (le32(bytes, 0) == MessageType.INITIATION) initiations.add(w.clock.nanoTime());
                return null; // B is unreachable
            };
            w.a.send(ping(1));
            w.pump();
            run(w, 120_000);
            // one initiation and 19 retries (wireguard-go: MaxTimerHandshakes + 2 attempts), then silence
            assertEquals(20, initiations.size(), "attempts: " + initiations.size());
            for (int i = 1; i < initiations.size(); i++) {
                long gap = initiations.get(i) - initiations.get(i - 1);
                assertTrue(gap >= 5_000_000_000L && gap <= 5_344_000_000L, "retry gap " + gap);
            }
            assertEquals(0, w.a.peer.stagedPackets(), "staged packet given up");
            assertEquals(1, w.a.device.counters().dropped(DropReason.WG_NO_SESSION));
        }
    }

    @Test
    void keepaliveTenSecondsAfterDataReceivedWhenNothingWasSent() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            List<byte[]> fromB = new ArrayList<>();
            w.wire = bytes -> {
                if (le32(bytes, 0) == MessageType.TRANSPORT && bytes.length == MessageType.KEEPALIVE_LEN) fromB.add(bytes);
                return bytes;
            };
            assertEquals(Encapsulation.FORWARD, w.a.send(ping(1)));
            w.pump();
            run(w, 9_900);
            assertEquals(0, fromB.size());
            run(w, 200);
            assertEquals(1, fromB.size(), "B's keepalive at 10 s");
            run(w, 30_000);
            assertEquals(1, fromB.size(), "only one: nothing new was received");
        }
    }

    @Test
    void noKeepaliveWhenTheReceiverSentDataItself() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            int[] keepalives = {0};
            w.wire = bytes -> {
                if (bytes.length == MessageType.KEEPALIVE_LEN) keepalives[0]++;
                return bytes;
            };
            w.a.send(ping(1));
            w.pump();
            run(w, 5_000);
            w.b.send(pong(1));
            w.pump();
            run(w, 11_000);
            // B answered with data, so it owes no keepalive; A received data at 5 s and sent nothing since: A keeps alive at 15 s.
            assertEquals(1, keepalives[0]);
        }
    }

    @Test
    void rekeyAfterTwoMinutesAndTrafficKeepsFlowing() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            Keypair first = w.a.peer.current;
            for (int s = 0; s < 130; s++) {
                w.a.send(ping(s));
                w.b.send(pong(s));
                run(w, 1000);
            }
            Keypair second = w.a.peer.current;
            assertNotSame(first, second, "A rekeyed after 120 s");
            assertTrue(second.createdNanos - first.createdNanos >= 120_000_000_000L);
            assertEquals(130, w.b.tun.size(), "every ping arrived");
            assertEquals(130, w.a.tun.size(), "every pong arrived");
            assertEquals(0, w.a.drops.droppedTotal() + w.b.drops.droppedTotal());
        }
    }

    @Test
    void rejectAfterThreeMinutes() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            assertEquals(Encapsulation.FORWARD, w.a.send(ping(1)));
            byte[] old = w.a.takeOutbox().get(0);
            w.clock.advance(Duration.ofSeconds(181));
            assertEquals(DropReason.WG_KEY_EXPIRED.ordinal(), w.b.receive(old, w.a.address, w.a.port));
            assertEquals(Encapsulation.CONSUMED, w.a.send(ping(2)), "no usable keypair: staged for a new handshake");
            w.pump();
            assertEquals(1, w.b.tun.size());
            assertEquals(ping(2)[30], w.b.tun.get(0)[30]);
        }
    }

    @Test
    void newHandshakeWhenSentDataGetsNoAnswer() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            List<Long> initiations = new ArrayList<>();
            w.wire = bytes -> {
                if (le32(bytes, 0) == MessageType.INITIATION) initiations.add(w.clock.nanoTime());
                return w.b.address == 0 ? bytes : (le32(bytes, 0) == MessageType.TRANSPORT ? bytes : null);
            };
            long sent = w.clock.nanoTime();
            w.a.send(ping(1));
            w.b.device.removePeer(w.a.key.publicKey()); // B goes silent
            run(w, 16_000);
            assertEquals(1, initiations.size());
            long after = initiations.get(0) - sent;
            assertTrue(after >= 15_000_000_000L && after <= 15_344_000_000L, "new handshake after keepalive + rekey timeout: " + after);
        }
    }

    @Test
    void persistentKeepalive() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            w.a.peer.setPersistentKeepalive(25);
            List<Long> keepalives = new ArrayList<>();
            w.wire = bytes -> {
                if (bytes.length == MessageType.KEEPALIVE_LEN && le32(bytes, TransportHeader.RECEIVER) == w.a.peer.current.remoteIndex) {
                    keepalives.add(w.clock.nanoTime());
                }
                return bytes;
            };
            long start = w.clock.nanoTime();
            run(w, 60_000);
            assertEquals(2, keepalives.size());
            assertTrue(Math.abs(keepalives.get(0) - start - 25_000_000_000L) <= 20_000_000L);
        }
    }

    @Test
    void keyMaterialZeroedAfterNineMinutesOfSilence() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            assertNotNull(w.a.peer.current);
            w.clock.advance(Duration.ofSeconds(539));
            w.tick();
            assertNotNull(w.a.peer.current);
            w.clock.advance(Duration.ofSeconds(2));
            w.tick();
            assertNull(w.a.peer.current);
            assertNull(w.b.peer.current);
        }
    }

    @Test
    void rekeyAfterMessagesAndRejectAfterMessages() {
        WireGuardTimings t = WireGuardTimings.DEFAULT.withMessageLimits(10, 20);
        try (WireGuardPair w = new WireGuardPair(t)) {
            w.handshake(); // the confirming keepalive used counter 0
            w.clock.advance(Duration.ofSeconds(6)); // past the rekey timeout of that handshake
            int[] initiations = {0};
            w.wire = bytes -> {
                if (le32(bytes, 0) == MessageType.INITIATION) {
                    initiations[0]++;
                    return null; // keep the old session so the limits show
                }
                return bytes;
            };
            for (int i = 1; i <= 19; i++) assertEquals(Encapsulation.FORWARD, w.a.send(ping(i)), "message " + i);
            w.pump();
            assertEquals(1, initiations[0], "a rekey once past 10 messages");
            assertEquals(Encapsulation.CONSUMED, w.a.send(ping(20)), "counter 20 is the reject limit");
            assertEquals(19, w.b.tun.size());
        }
    }
}
