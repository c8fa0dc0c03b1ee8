package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.testing.AllocationRounds;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Transport data between two devices in session allocates nothing ({@link AllocationRounds}): A
 * seals a packet in place, B opens it in place, at a full-size packet and at what a 64-byte UDP
 * datagram makes, with the default cipher and the one without vectors that allocates nothing.
 */
class TransportAllocationTest {
    @ParameterizedTest
    @EnumSource(value = TransportCipher.class, names = {"VECTOR", "SEGMENT"})
    void sealingAndOpeningAllocateNothing(TransportCipher cipher) {
        assumeTrue(cipher != TransportCipher.VECTOR || VectorChaCha20Poly1305.isAvailable(),
                "the Vector API is not there (run with --add-modules jdk.incubator.vector)");
        try (WireGuardPair w = new WireGuardPair(cipher, cipher)) {
            w.handshake();
            for (int length : new int[] {1420, 92}) {
                byte[] inner = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", length, 1);
                PacketBuffer p = w.pool.acquire();
                int headroom = p.offset();
                try {
                    AllocationRounds.assertAllocatesNothing(cipher + ": seal at A and open at B of a " + length + "-byte packet", () -> {
                        p.setData(headroom, 0).put(inner);
                        assertEquals(Encapsulation.FORWARD, w.a.device.encap(p, w.a.peer.id()));
                        p.setPeer(w.a.address, w.a.port);
                        assertEquals(Encapsulation.FORWARD, w.b.device.decap(p));
                        assertEquals(length, p.length());
                    });
                } finally {
                    p.release();
                }
            }
        }
    }
}
