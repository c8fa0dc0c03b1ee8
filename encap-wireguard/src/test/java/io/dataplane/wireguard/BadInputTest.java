package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every malformed or hostile message is dropped under its own reason, never an exception, never a lost buffer. */
class BadInputTest {
    private static byte[] ping(int fill) {
        return Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, fill);
    }

    /** A established session and one sealed transport message from A to B. */
    private static byte[] sealedFromA(WireGuardPair w, byte[] inner) {
        assertEquals(Encapsulation.FORWARD, w.a.send(inner));
        return w.a.takeOutbox().get(0);
    }

    private static int deliverToB(WireGuardPair w, byte[] msg) {
        return w.b.receive(msg, w.a.address, w.a.port);
    }

    @Test
    void wrongTypeTruncatedAndWrongLengths() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            int bad = DropReason.WG_BAD_MESSAGE.ordinal();
            assertEquals(bad, deliverToB(w, new byte[0]));
            assertEquals(bad, deliverToB(w, new byte[] {1, 0, 0}));
            assertEquals(bad, deliverToB(w, new byte[] {5, 0, 0, 0, 0, 0, 0, 0}), "unknown type 5");
            assertEquals(bad, deliverToB(w, new byte[] {0, 0, 0, 0}), "type 0");
            byte[] reserved = new byte[148];
            reserved[0] = 1;
            reserved[1] = 1; // reserved bytes must be zero
            assertEquals(bad, deliverToB(w, reserved));
            byte[] data = sealedFromA(w, ping(1));
            assertEquals(bad, deliverToB(w, Arrays.copyOf(data, 31)), "transport shorter than header + tag");
            for (int type = 1; type <= 3; type++) {
                int size = type == 1 ? 148 : type == 2 ? 92 : 64;
                for (int len : new int[] {size - 1, size + 1, 4, size + 100}) {
                    byte[] m = new byte[len];
                    m[0] = (byte) type;
                    assertEquals(bad, deliverToB(w, m), "type " + type + " length " + len);
                }
            }
            assertEquals(18, w.b.dropped(DropReason.WG_BAD_MESSAGE));
            assertEquals(Encapsulation.FORWARD, deliverToB(w, data), "good traffic unharmed");
        }
    }

    @Test
    void wrongMac1() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.a.send(ping(1));
            byte[] initiation = w.a.takeOutbox().get(0);
            for (int i : new int[] {InitiationMessage.MAC1, InitiationMessage.MAC1 + 15, 8, 100}) {
                byte[] m = initiation.clone();
                m[i] ^= 1;
                assertEquals(DropReason.WG_BAD_MAC1.ordinal(), deliverToB(w, m), "byte " + i);
            }
            assertEquals(4, w.b.dropped(DropReason.WG_BAD_MAC1));
            assertEquals(Encapsulation.REPLY, deliverToB(w, initiation));
            byte[] response = w.b.takeOutbox().get(0);
            response[ResponseMessage.MAC1] ^= 1;
            assertEquals(DropReason.WG_BAD_MAC1.ordinal(), w.a.receive(response, w.b.address, w.b.port));
        }
    }

    @Test
    void unknownReceiverIndex() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            byte[] data = sealedFromA(w, ping(1));
            data[TransportHeader.RECEIVER] ^= (byte) 0x80;
            assertEquals(DropReason.WG_UNKNOWN_RECEIVER.ordinal(), deliverToB(w, data));
            byte[] response = new byte[92];
            response[0] = 2;
            // a response must carry a valid mac1 to get as far as the index lookup
            new CookieGenerator(w.b.key.publicKey()).addMacs(response, w.clock.nanoTime(), WireGuardTimings.DEFAULT);
            assertEquals(DropReason.WG_UNKNOWN_RECEIVER.ordinal(), deliverToB(w, response));
            byte[] cookie = new byte[64];
            cookie[0] = 3;
            assertEquals(DropReason.WG_UNKNOWN_RECEIVER.ordinal(), deliverToB(w, cookie));
        }
    }

    @Test
    void replayedAndTamperedTransportData() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            byte[] first = sealedFromA(w, ping(1));
            byte[] second = sealedFromA(w, ping(2));
            assertEquals(Encapsulation.FORWARD, deliverToB(w, second));
            assertEquals(Encapsulation.FORWARD, deliverToB(w, first), "out of order within the window");
            assertEquals(DropReason.WG_REPLAY.ordinal(), deliverToB(w, first));
            assertEquals(DropReason.WG_REPLAY.ordinal(), deliverToB(w, second));
            byte[] third = sealedFromA(w, ping(3));
            byte[] tampered = third.clone();
            tampered[40] ^= 4;
            assertEquals(DropReason.WG_DECRYPT_FAILED.ordinal(), deliverToB(w, tampered));
            byte[] counterChanged = third.clone();
            counterChanged[TransportHeader.COUNTER] ^= 8;
            assertEquals(DropReason.WG_DECRYPT_FAILED.ordinal(), deliverToB(w, counterChanged));
            assertEquals(Encapsulation.FORWARD, deliverToB(w, third), "a forged packet does not burn its counter");
            assertEquals(2, w.b.dropped(DropReason.WG_REPLAY));
            assertEquals(2, w.b.dropped(DropReason.WG_DECRYPT_FAILED));
        }
    }

    @Test
    void innerSourceOutsideThePeersAllowedIps() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            byte[] spoofed = sealedFromA(w, Ipv4Packets.icmpEcho("10.244.2.99", "10.244.2.7", 84, 1));
            assertEquals(DropReason.WG_NOT_ALLOWED_SOURCE.ordinal(), deliverToB(w, spoofed));
            byte[] outside = sealedFromA(w, Ipv4Packets.icmpEcho("192.168.1.1", "10.244.2.7", 84, 1));
            assertEquals(DropReason.WG_NOT_ALLOWED_SOURCE.ordinal(), deliverToB(w, outside));
            byte[] notIpv4 = ping(1);
            notIpv4[0] = 0x60;
            assertEquals(DropReason.NOT_IPV4.ordinal(), deliverToB(w, sealedFromA(w, notIpv4)));
            byte[] badLen = ping(1);
            badLen[3] = (byte) 200; // total length beyond the packet
            assertEquals(DropReason.BAD_TOTAL_LENGTH.ordinal(), deliverToB(w, sealedFromA(w, badLen)));
            assertEquals(2, w.b.dropped(DropReason.WG_NOT_ALLOWED_SOURCE));
        }
    }

    @Test
    void replayedInitiationAndHandshakeFlood() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.a.send(ping(1));
            byte[] initiation = w.a.takeOutbox().get(0);
            assertEquals(Encapsulation.REPLY, deliverToB(w, initiation));
            w.b.takeOutbox();
            w.clock.advanceMillis(100);
            assertEquals(DropReason.WG_HANDSHAKE_REPLAY.ordinal(), deliverToB(w, initiation), "same timestamp again");

            // A second copy of A (same key) whose wall clock is later: a fresh timestamp, but
            // within 1/50 s of the last initiation B accepted from that peer.
            FakeClock later = new FakeClock(1_700_000_000L * 1_000_000_000L + Duration.ofSeconds(10).toNanos());
            WireGuardDevice twin = new WireGuardDevice(WireGuardConfig.of(w.a.key).with(WireGuardTimings.DEFAULT, later),
                    new io.dataplane.core.table.RouteTable(), w.pool, w.a.outbox::add);
            twin.addPeer(PeerConfig.of(w.b.key.publicKey(), w.b.address, w.b.port, List.of()));
            w.clock.advanceMillis(1000);
            twin.peers().get(0).sendInitiation(false, later.nanoTime());
            byte[] fresh = w.a.takeOutbox().get(0);
            assertEquals(Encapsulation.REPLY, deliverToB(w, fresh), "newer timestamp, 1 s later: accepted");
            w.b.takeOutbox();
            later.advance(Duration.ofSeconds(6));
            twin.peers().get(0).sendInitiation(false, later.nanoTime());
            byte[] flood = w.a.takeOutbox().get(0);
            w.clock.advanceMillis(10);
            assertEquals(DropReason.WG_HANDSHAKE_FLOOD.ordinal(), deliverToB(w, flood), "10 ms after the last one");
            w.clock.advanceMillis(20);
            assertEquals(Encapsulation.REPLY, deliverToB(w, flood), "the same one past the flood interval");
            twin.close();
        }
    }

    @Test
    void garbageOfEveryLengthIsDroppedWithoutExceptions() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            Random rnd = new Random(5);
            for (int i = 0; i < 3000; i++) {
                byte[] m = new byte[rnd.nextInt(300)];
                rnd.nextBytes(m);
                if (m.length >= 4 && rnd.nextBoolean()) {
                    m[0] = (byte) (1 + rnd.nextInt(4));
                    m[1] = m[2] = m[3] = 0;
                }
                int v = deliverToB(w, m);
                assertTrue(v >= 0 || v == Encapsulation.REPLY, "garbage must not pass: " + v);
                w.b.takeOutbox();
            }
            assertEquals(Encapsulation.FORWARD, deliverToB(w, sealedFromA(w, ping(7))));
        }
    }
}
