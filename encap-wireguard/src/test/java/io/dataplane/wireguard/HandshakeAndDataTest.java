package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A full handshake between two of our devices, then data both ways, sealed and opened in place. */
class HandshakeAndDataTest {
    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    @Test
    void firstPacketWaitsForTheHandshakeThenDataFlowsBothWays() {
        try (WireGuardPair w = new WireGuardPair()) {
            List<byte[]> wire = new ArrayList<>();
            w.wire = bytes -> {
                wire.add(bytes);
                return bytes;
            };
            byte[] ping = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1);
            assertEquals(Encapsulation.CONSUMED, w.a.send(ping), "no session yet: staged");
            assertEquals(1, w.a.peer.stagedPackets());
            w.pump();

            // initiation (148), response (92), then the staged ping as transport data (16 + 96 + 16)
            assertEquals(3, wire.size());
            assertEquals(148, wire.get(0).length);
            assertEquals(MessageType.INITIATION, le32(wire.get(0), 0));
            assertEquals(92, wire.get(1).length);
            assertEquals(MessageType.RESPONSE, le32(wire.get(1), 0));
            assertEquals(le32(wire.get(0), InitiationMessage.SENDER), le32(wire.get(1), ResponseMessage.RECEIVER));
            assertEquals(16 + 96 + 16, wire.get(2).length);
            assertEquals(MessageType.TRANSPORT, le32(wire.get(2), 0));
            assertEquals(le32(wire.get(1), ResponseMessage.SENDER), le32(wire.get(2), TransportHeader.RECEIVER));

            assertEquals(1, w.b.tun.size());
            assertArrayEquals(ping, w.b.tun.get(0), "B's TUN gets the exact inner packet, padding trimmed");
            assertTrue(w.a.peer.hasSession());
            assertTrue(w.b.peer.hasSession(), "B's next keypair became current on A's first data");

            // B answers directly: it has a session, no staging.
            byte[] pong = Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 1400, 9);
            assertEquals(Encapsulation.FORWARD, w.b.send(pong));
            w.pump();
            assertEquals(1, w.a.tun.size());
            assertArrayEquals(pong, w.a.tun.get(0));

            for (int i = 0; i < 50; i++) {
                byte[] p = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 28 + i * 7, i);
                assertEquals(Encapsulation.FORWARD, w.a.send(p));
            }
            w.pump();
            assertEquals(51, w.b.tun.size());
            for (int i = 0; i < 50; i++) {
                assertArrayEquals(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 28 + i * 7, i), w.b.tun.get(1 + i));
            }
            assertEquals(0, w.a.drops.droppedTotal() + w.b.drops.droppedTotal());
            assertTrue(w.a.peer.lastHandshakeEpochNanos() > 0);
            assertTrue(w.a.peer.txBytes() > 0 && w.b.peer.rxBytes() > 0);
        }
    }

    @Test
    void sealedLengthIsPaddedToSixteenButNeverBeyondTheMtu() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            for (int len : new int[] {28, 29, 31, 32, 33, 100, 1415, 1416, 1417, 1420}) {
                assertEquals(Encapsulation.FORWARD, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", len, len)));
                List<byte[]> out = w.a.takeOutbox();
                int padded = Math.min((len + 15) / 16 * 16, WireGuardConfig.DEFAULT_MTU);
                assertEquals(32 + padded, out.get(0).length, "inner length " + len);
                assertEquals(Encapsulation.FORWARD, w.b.receive(out.get(0), w.a.address, w.a.port));
                assertArrayEquals(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", len, len), w.b.tun.getLast());
            }
        }
    }

    @Test
    void anOpenedPacketIsMarkedAuthenticatedAndOneThatFailsIsNot() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            assertEquals(Encapsulation.FORWARD, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 100, 1)));
            byte[] sealed = w.a.takeOutbox().get(0);
            assertEquals(Encapsulation.FORWARD, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 100, 2)));
            byte[] tampered = w.a.takeOutbox().get(0);
            tampered[tampered.length - 1] ^= 0x01; // the tag
            PacketBuffer p = w.pool.acquire();
            try {
                p.put(sealed).setPeer(w.a.address, w.a.port);
                assertEquals(Encapsulation.FORWARD, w.b.device.decap(p));
                assertTrue(p.authenticated(), "the AEAD vouched for the inner packet: the TUN's writer need not check its checksums");
                // A train's buffer keeps the flag of the message before; a message that fails clears it.
                p.put(tampered).setPeer(w.a.address, w.a.port);
                assertEquals(DropReason.WG_DECRYPT_FAILED.ordinal(), w.b.device.decap(p));
                assertFalse(p.authenticated());
            } finally {
                p.release();
            }
        }
    }

    @Test
    void responderKeepsTheNewKeypairAsNextUntilTheInitiatorConfirmsIt() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.wire = bytes -> le32(bytes, 0) == MessageType.TRANSPORT ? null : bytes; // lose the confirming keepalive
            w.handshake();
            assertTrue(w.a.peer.hasSession());
            assertNull(w.b.peer.current, "responder: no current keypair before confirmation");
            assertNotNull(w.b.peer.next);
            // B has data for A: it waits (staged), it does not use an unconfirmed keypair
            assertEquals(Encapsulation.CONSUMED, w.b.send(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 60, 3)));
            w.wire = bytes -> bytes;
            assertEquals(Encapsulation.FORWARD, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, 4)));
            w.pump();
            assertNotNull(w.b.peer.current);
            assertNull(w.b.peer.next);
            assertEquals(1, w.a.tun.size(), "B's staged packet went out once its keypair was confirmed");
        }
    }

    @Test
    void presharedKeyMustMatch() {
        PresharedKey psk = PresharedKey.generate();
        try (WireGuardPair w = new WireGuardPair(WireGuardTimings.DEFAULT, 500, psk, psk)) {
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            w.pump();
            assertEquals(1, w.b.tun.size());
        }
        try (WireGuardPair w = new WireGuardPair(WireGuardTimings.DEFAULT, 500, psk, PresharedKey.generate())) {
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            w.pump();
            assertEquals(0, w.b.tun.size());
            assertEquals(1, w.a.dropped(DropReason.WG_BAD_HANDSHAKE), "the response fails to authenticate at A");
            assertFalse(w.a.peer.hasSession());
        }
    }

    @Test
    void simultaneousInitiationsStillEndInWorkingSessions() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 1));
            w.b.send(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 84, 2));
            w.pump();
            // Crossed initiations leave each side with an unconfirmed responder keypair; the
            // retransmit jitter (up to 333 ms) separates the next attempts, as in wireguard-go.
            for (int ms = 0; ms < 60_000 && !(w.a.peer.hasSession() && w.b.peer.hasSession()); ms += 10) {
                w.clock.advanceMillis(10);
                w.tick();
                w.pump();
            }
            assertTrue(w.a.peer.hasSession() && w.b.peer.hasSession());
            assertEquals(Encapsulation.FORWARD, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 3)));
            w.pump();
            assertEquals(Encapsulation.FORWARD, w.b.send(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 84, 4)));
            w.pump();
            assertTrue(w.b.tun.size() >= 2, "B got A's packets: " + w.b.tun.size());
            assertTrue(w.a.tun.size() >= 2, "A got B's packets: " + w.a.tun.size());
        }
    }

    @Test
    void roamingPeerIsFollowedToItsNewEndpoint() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, 1));
            byte[] data = w.a.takeOutbox().get(0);
            int newAddress = io.dataplane.core.wire.Ipv4Address.parse("198.51.100.9");
            assertEquals(Encapsulation.FORWARD, w.b.receive(data, newAddress, 40000));
            assertEquals(newAddress, w.b.peer.endpointAddress());
            assertEquals(40000, w.b.peer.endpointPort());
        }
    }

    @Test
    void removingAPeerDropsItsSessionAndStagedPackets() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, 1));
            byte[] data = w.a.takeOutbox().get(0);
            assertTrue(w.b.device.removePeer(w.a.key.publicKey()));
            assertEquals(DropReason.WG_UNKNOWN_RECEIVER.ordinal(), w.b.receive(data, w.a.address, w.a.port));
            assertSame(null, w.b.device.peer(w.a.key.publicKey()));
            assertEquals(io.dataplane.core.table.RouteTable.NO_ROUTE, w.b.allowedIps.lookup(io.dataplane.core.wire.Ipv4Address.parse("10.244.1.5")));
        }
    }

    @Test
    void stagedQueueKeepsTheNewest128() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.wire = bytes -> le32(bytes, 0) == MessageType.INITIATION ? null : bytes; // hold the handshake back
            for (int i = 0; i < 130; i++) {
                assertEquals(Encapsulation.CONSUMED, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, i)));
            }
            w.pump();
            assertEquals(128, w.a.peer.stagedPackets());
            assertEquals(2, w.a.device.counters().dropped(DropReason.WG_NO_SESSION), "the two oldest pushed out");
            w.wire = bytes -> bytes;
            w.clock.advanceMillis(5400);
            w.tick(); // the retransmit goes through now
            w.pump();
            assertEquals(128, w.b.tun.size());
            assertArrayEquals(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, 2), w.b.tun.get(0), "oldest kept first, in order");
            assertArrayEquals(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, 129), w.b.tun.get(127));
        }
    }

    @ParameterizedTest
    @CsvSource({"SEGMENT,SEGMENT", "JDK,JDK", "SEGMENT,JDK", "JDK,SEGMENT", "BY_SIZE,BY_SIZE", "BY_SIZE,SEGMENT", "JDK,BY_SIZE",
            "VECTOR,VECTOR", "VECTOR,JDK", "SEGMENT,VECTOR"})
    void eitherTransportCipherOnEitherSide(TransportCipher cipherA, TransportCipher cipherB) throws InterruptedException {
        boolean vector = cipherA.vector() || cipherB.vector();
        if (vector) io.dataplane.core.testing.Prerequisites.require(VectorChaCha20Poly1305.isAvailable(), VectorChaCha20Poly1305.unavailabilityCause());
        try (WireGuardPair w = new WireGuardPair(cipherA, cipherB)) {
            // The devices seal with the scalar cipher until the vector one is warm: wait, to test the latter.
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (vector && !VectorChaCha20Poly1305.isWarm() && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(!vector || VectorChaCha20Poly1305.isWarm(), "vector cipher warm within 120 s");
            w.handshake();
            for (int len : new int[] {28, 100, 1000, 1420}) {
                assertEquals(Encapsulation.FORWARD, w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", len, len)));
                assertEquals(Encapsulation.FORWARD, w.b.send(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", len, len + 1)));
            }
            w.pump();
            assertEquals(4, w.b.tun.size());
            assertEquals(4, w.a.tun.size());
            assertArrayEquals(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 1420, 1420), w.b.tun.get(3));
            assertArrayEquals(Ipv4Packets.icmpEcho("10.244.2.7", "10.244.1.5", 1000, 1001), w.a.tun.get(2));
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 60, 1));
            byte[] forged = w.a.takeOutbox().get(0);
            forged[20] ^= 1;
            assertEquals(DropReason.WG_DECRYPT_FAILED.ordinal(), w.b.receive(forged, w.a.address, w.a.port));
            w.a.send(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 1000, 2)); // above BY_SIZE's threshold
            byte[] forgedLarge = w.a.takeOutbox().get(0);
            forgedLarge[forgedLarge.length - 1] ^= 1; // the tag
            assertEquals(DropReason.WG_DECRYPT_FAILED.ordinal(), w.b.receive(forgedLarge, w.a.address, w.a.port));
            assertEquals(4, w.b.tun.size(), "nothing forged reached the TUN");
        }
    }

    @Test
    void updatingAPeerKeepsItsSessionAndMovesItsAllowedIps() {
        try (WireGuardPair w = new WireGuardPair()) {
            w.handshake();
            Keypair before = w.a.peer.current;
            int newEndpoint = io.dataplane.core.wire.Ipv4Address.parse("198.51.100.2");
            WireGuardPeer same = w.a.device.updatePeer(new PeerConfig(w.b.key.publicKey(), PresharedKey.NONE, newEndpoint, 51821,
                    java.util.List.of(io.dataplane.core.wire.Ipv4Prefix.parse("10.244.3.0/24")), 25));
            assertSame(w.a.peer, same);
            assertSame(before, w.a.peer.current, "same session");
            assertEquals(newEndpoint, w.a.peer.endpointAddress());
            assertEquals(51821, w.a.peer.endpointPort());
            assertEquals(io.dataplane.core.table.RouteTable.NO_ROUTE,
                    w.a.allowedIps.lookup(io.dataplane.core.wire.Ipv4Address.parse("10.244.2.7")), "old prefix gone");
            assertEquals(w.a.peer.id(), w.a.allowedIps.lookup(io.dataplane.core.wire.Ipv4Address.parse("10.244.3.7")));
            // a new preshared key means a new peer (and a new handshake)
            WireGuardPeer fresh = w.a.device.updatePeer(new PeerConfig(w.b.key.publicKey(), PresharedKey.generate(), newEndpoint, 51821,
                    java.util.List.of(io.dataplane.core.wire.Ipv4Prefix.parse("10.244.3.0/24")), 0));
            assertFalse(fresh == w.a.peer);
            assertNull(fresh.current);
        }
    }
}
