package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TransportCodec#warmUpLoneMessages}: a device's start warms the one-message path on a
 * thread of its own, and the warm-up leaves no trace on the devices in session beside it: nothing
 * sent, no buffer of their pool taken, no counter, sending counter or replay window moved, and the
 * session carries traffic as before.
 */
class LoneMessageWarmUpTest {
    private static final byte[] PING = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1);

    @Test
    void aDeviceStartsTheWarmUpAndItOpensEveryMessageItSeals() throws InterruptedException {
        try (WireGuardPair w = new WireGuardPair(TransportCipher.DEFAULT, TransportCipher.DEFAULT)) {
            Thread t = TransportCodec.loneWarmUp();
            assertNotNull(t, "a device's start started the warm-up");
            t.join(120_000);
            assertFalse(t.isAlive(), "the warm-up ended within 120 s");
            assertEquals(0, w.pool.outstanding(), "the warm-up took no buffer of the devices' pool");
            assertTrue(w.a.takeOutbox().isEmpty() && w.b.takeOutbox().isEmpty(), "nothing sent by the warm-up");
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransportCipher.class, names = {"VECTOR", "SEGMENT", "BY_SIZE"})
    void theWarmUpLeavesNoTraceOnASessionBesideIt(TransportCipher cipher) {
        if (cipher.unavailabilityCause() != null) cipher = TransportCipher.SEGMENT;
        try (WireGuardPair w = new WireGuardPair(cipher, cipher)) {
            w.handshake();
            assertEquals(Encapsulation.FORWARD, w.a.send(PING));
            w.pump();
            Keypair kpA = w.a.peer.current;
            Keypair kpB = w.b.peer.current;
            long sendA = kpA.sendCounter(), sendB = kpB.sendCounter();
            long txA = w.a.peer.txBytes(), rxB = w.b.peer.rxBytes();
            int tunB = w.b.tun.size();

            assertEquals(2_000, TransportCodec.sealAndOpenLoneMessages(cipher, 2_000), "every message the warm-up sealed opened");

            assertEquals(0, w.pool.outstanding(), "no buffer of the devices' pool taken");
            assertTrue(w.a.outbox.isEmpty() && w.b.outbox.isEmpty(), "nothing sent");
            assertEquals(sendA, kpA.sendCounter(), "A's sending counter");
            assertEquals(sendB, kpB.sendCounter(), "B's sending counter");
            assertEquals(txA, w.a.peer.txBytes(), "A's bytes sent");
            assertEquals(rxB, w.b.peer.rxBytes(), "B's bytes received");
            assertEquals(tunB, w.b.tun.size(), "nothing reached B's TUN");
            for (WireGuardPair.Side s : List.of(w.a, w.b)) {
                for (DropReason r : DropReason.values()) assertEquals(0, s.dropped(r), s.name + " dropped " + r);
            }

            // The session goes on where it was: the next message is the next counter, and B's replay window takes it.
            assertEquals(Encapsulation.FORWARD, w.a.send(PING));
            w.pump();
            assertEquals(sendA + 1, kpA.sendCounter());
            assertEquals(tunB + 1, w.b.tun.size());
            assertArrayEquals(PING, w.b.tun.get(tunB));
        }
    }
}
