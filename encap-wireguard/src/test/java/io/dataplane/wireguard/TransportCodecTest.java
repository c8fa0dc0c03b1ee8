package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.wireguard.crypto.ChaCha20Poly1305;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which cipher {@link TransportCodec} takes under {@link TransportCipher#VECTOR}: a long message the
 * lanes, a short one on its own the scalar cipher, a short one right behind another (a burst) the
 * lanes. Both give the same bytes (HandshakeAndDataTest: VECTOR against the other ciphers, short and
 * long messages).
 */
class TransportCodecTest {
    private static final int SHORT = 96; // a ping's padded payload
    private static final int LONG = 1024;

    private final Keypair vector = keypair(TransportCipher.VECTOR);

    @BeforeAll
    static void warmVectorCipher() throws InterruptedException {
        Prerequisites.require(VectorChaCha20Poly1305.isAvailable(), VectorChaCha20Poly1305.unavailabilityCause());
        VectorChaCha20Poly1305.warmUp();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!VectorChaCha20Poly1305.isWarm() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(VectorChaCha20Poly1305.isWarm(), "vector cipher warm within 120 s");
    }

    private static Keypair keypair(TransportCipher cipher) {
        byte[] send = new byte[32];
        byte[] receive = new byte[32];
        for (int i = 0; i < 32; i++) {
            send[i] = (byte) i;
            receive[i] = (byte) (100 + i);
        }
        return new Keypair(null, send, receive, cipher, true, 0, 1, 2);
    }

    // A pause well past the burst window: the next short message is on its own.
    private static void pause() throws InterruptedException {
        Thread.sleep(Math.max(2, 3 * TransportCodec.BURST_NANOS / 1_000_000));
    }

    @Test
    void longMessagesTakeTheLanesEvenAlone() throws InterruptedException {
        pause();
        assertTrue(TransportCodec.lanes(vector, LONG, 0));
        assertTrue(TransportCodec.lanes(vector, TransportCodec.LANES_ALONE_FROM, 0));
    }

    @Test
    void aShortMessageAloneTakesTheScalarCipherAndOneInABurstTheLanes() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            pause();
            assertFalse(TransportCodec.lanes(vector, SHORT, 0), "a short message after a pause");
            pause();
            assertFalse(TransportCodec.lanes(vector, SHORT, TransportCodec.PROBE_EVERY - 1), "a short message after a pause, a probe's number");
        }
        // Two calls in a row are within the window unless the thread lost the CPU between them.
        boolean burst = false;
        for (int i = 0; i < 1000 && !burst; i++) {
            TransportCodec.lanes(vector, SHORT, 0);
            burst = TransportCodec.lanes(vector, SHORT, 0);
        }
        assertTrue(burst, "a short message right behind another");
    }

    @Test
    void aCipherWithoutLanesNeverTakesThem() {
        Keypair scalar = keypair(TransportCipher.SEGMENT);
        for (int i = 0; i < 3; i++) {
            assertFalse(TransportCodec.lanes(scalar, SHORT, TransportCodec.PROBE_EVERY - 1));
            assertFalse(TransportCodec.lanes(scalar, LONG, TransportCodec.PROBE_EVERY - 1));
        }
    }

    @Test
    void thePaddingIsZeroWhateverTheBufferHeldBefore() {
        for (TransportCipher cipher : new TransportCipher[] {TransportCipher.SEGMENT, TransportCipher.VECTOR}) {
            Keypair kp = keypair(cipher);
            for (int len = 81; len <= 96; len++) {
                int padded = TransportCodec.paddedLength(len, 1420);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment seg = arena.allocate(16 + padded + 16);
                    seg.fill((byte) 0xA5);
                    long off = 16;
                    TransportCodec.sealAt(kp, len, seg, off, len, padded);
                    assertTrue(ChaCha20Poly1305.openTransport(kp.sendKey, len, seg, off, padded), cipher + " len=" + len);
                    for (int i = len; i < padded; i++) {
                        assertEquals(0, seg.get(ValueLayout.JAVA_BYTE, off + i), cipher + " padding byte " + i + " of len=" + len);
                    }
                    for (int i = 0; i < len; i++) {
                        assertEquals((byte) 0xA5, seg.get(ValueLayout.JAVA_BYTE, off + i), cipher + " payload byte " + i + " of len=" + len);
                    }
                }
            }
        }
    }
}
