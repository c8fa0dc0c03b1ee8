package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Under load, initiations without a valid mac2 get a cookie reply; the initiator's next initiation carries the cookie. */
class CookieTest {
    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    private static boolean mac2Zero(byte[] initiation) {
        for (int i = InitiationMessage.MAC2; i < InitiationMessage.LEN; i++) if (initiation[i] != 0) return false;
        return true;
    }

    @Test
    void underLoadCookieReplyThenMac2IsAccepted() {
        // B's threshold 0: every handshake message puts it under load.
        try (WireGuardPair w = new WireGuardPair(WireGuardTimings.DEFAULT, 0, PresharedKey.NONE, PresharedKey.NONE)) {
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            byte[] initiation = w.a.takeOutbox().get(0);
            assertTrue(mac2Zero(initiation), "no cookie yet: mac2 is zero");
            assertEquals(Encapsulation.REPLY, w.b.receive(initiation, w.a.address, w.a.port));
            assertTrue(w.b.device.underLoad());
            assertEquals(1, w.b.device.counters().dropped(DropReason.WG_COOKIE_REQUIRED));
            byte[] reply = w.b.takeOutbox().get(0);
            assertEquals(64, reply.length);
            assertEquals(MessageType.COOKIE_REPLY, le32(reply, 0));
            assertEquals(le32(initiation, InitiationMessage.SENDER), le32(reply, CookieReplyMessage.RECEIVER));
            assertFalse(w.b.peer.hasSession(), "no Diffie-Hellman done for it");

            assertEquals(Encapsulation.CONSUMED, w.a.receive(reply, w.b.address, w.b.port));
            assertTrue(w.a.peer.cookieGenerator.hasCookie(w.clock.nanoTime(), WireGuardTimings.DEFAULT));

            // The retry carries mac2 and gets through.
            w.clock.advance(Duration.ofMillis(5400));
            w.tick();
            List<byte[]> retry = w.a.takeOutbox();
            assertEquals(1, retry.size());
            assertFalse(mac2Zero(retry.get(0)));
            assertEquals(Encapsulation.REPLY, w.b.receive(retry.get(0), w.a.address, w.a.port));
            w.pump();
            assertEquals(1, w.b.tun.size(), "the staged ping arrived");
            assertEquals(1, w.b.device.counters().dropped(DropReason.WG_COOKIE_REQUIRED));

            // A cookie is tied to the source address: the same initiation from elsewhere gets a new cookie reply.
            w.clock.advance(Duration.ofSeconds(6));
            w.a.peer.sendInitiation(false, w.clock.nanoTime());
            byte[] again = w.a.takeOutbox().get(0);
            assertEquals(Encapsulation.REPLY, w.b.receive(again, io.dataplane.core.wire.Ipv4Address.parse("198.51.100.1"), 9999));
            assertEquals(MessageType.COOKIE_REPLY, le32(w.b.takeOutbox().get(0), 0));
        }
    }

    @Test
    void cookieExpiresAfterTwoMinutes() {
        try (WireGuardPair w = new WireGuardPair(WireGuardTimings.DEFAULT, 0, PresharedKey.NONE, PresharedKey.NONE)) {
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            w.b.receive(w.a.takeOutbox().get(0), w.a.address, w.a.port);
            w.a.receive(w.b.takeOutbox().get(0), w.b.address, w.b.port);
            w.clock.advance(Duration.ofSeconds(121));
            w.a.peer.sendInitiation(false, w.clock.nanoTime());
            byte[] late = w.a.takeOutbox().get(0);
            assertTrue(mac2Zero(late));
        }
    }

    @Test
    void badCookieReplyAndRateLimitUnderLoad() {
        try (WireGuardPair w = new WireGuardPair(WireGuardTimings.DEFAULT, 0, PresharedKey.NONE, PresharedKey.NONE)) {
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            byte[] initiation = w.a.takeOutbox().get(0);
            w.b.receive(initiation, w.a.address, w.a.port);
            byte[] reply = w.b.takeOutbox().get(0);
            byte[] forged = reply.clone();
            forged[40] ^= 1;
            assertEquals(DropReason.WG_BAD_COOKIE.ordinal(), w.a.receive(forged, w.b.address, w.b.port));
            assertEquals(Encapsulation.CONSUMED, w.a.receive(reply, w.b.address, w.b.port));

            w.clock.advance(Duration.ofSeconds(6));
            w.a.peer.sendInitiation(false, w.clock.nanoTime());
            byte[] withMac2 = w.a.takeOutbox().get(0);
            // The same valid initiation 20 times in a burst: the first is accepted, replays are
            // refused, and once the source's budget is spent (wireguard-go's limiter: 20/s, a burst of
            // 5 of which the first message takes one and a fifth needs more than a full token) the rate limit drops them first.
            int replies = 0;
            for (int i = 0; i < 20; i++) {
                if (w.b.receive(withMac2, w.a.address, w.a.port) == Encapsulation.REPLY) replies++;
            }
            w.b.takeOutbox();
            assertEquals(1, replies);
            assertEquals(3, w.b.dropped(DropReason.WG_HANDSHAKE_REPLAY));
            assertEquals(16, w.b.dropped(DropReason.WG_HANDSHAKE_FLOOD));
        }
    }

    @Test
    void loadThresholdIsHandshakeMessagesPerSecondAndLoadLastsASecond() {
        try (WireGuardPair w = new WireGuardPair(WireGuardTimings.DEFAULT, 3, PresharedKey.NONE, PresharedKey.NONE)) {
            byte[] junk = new byte[InitiationMessage.LEN];
            junk[0] = MessageType.INITIATION;
            for (int i = 0; i < 3; i++) assertEquals(DropReason.WG_BAD_MAC1.ordinal(), w.b.receive(junk, w.a.address, w.a.port));
            assertFalse(w.b.device.underLoad(), "3 messages in a second: at the threshold, not above");
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            byte[] initiation = w.a.takeOutbox().get(0);
            assertEquals(Encapsulation.REPLY, w.b.receive(initiation, w.a.address, w.a.port));
            assertEquals(MessageType.COOKIE_REPLY, le32(w.b.takeOutbox().get(0), 0), "the 4th in the second: cookie reply");
            assertTrue(w.b.device.underLoad());
            w.clock.advance(Duration.ofMillis(1100));
            assertFalse(w.b.device.underLoad(), "load lasts underLoadAfterTime (1 s) after the last excess");
            assertEquals(Encapsulation.REPLY, w.b.receive(initiation, w.a.address, w.a.port));
            assertEquals(MessageType.RESPONSE, le32(w.b.takeOutbox().get(0), 0), "a new second: processed normally");
        }
    }
}
