package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorChaCha20Poly1305} against {@link InPlaceAeadContract} and our scalar cipher. The
 * build starts test JVMs with the incubator module; the tests skip only on a CPU without 256-bit
 * vectors.
 */
class VectorChaCha20Poly1305Test extends InPlaceAeadContract {
    @BeforeEach
    void needsVectors() {
        io.dataplane.core.testing.Prerequisites.require(VectorChaCha20Poly1305.isAvailable(), VectorChaCha20Poly1305.unavailabilityCause());
    }

    @Override
    void seal(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen, MemorySegment data, long off,
            int len) {
        VectorChaCha20Poly1305.seal(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len);
    }

    @Override
    boolean open(int[] key, int n0, int n1, int n2, MemorySegment aad, long aadOff, int aadLen, MemorySegment data, long off,
            int len) {
        return VectorChaCha20Poly1305.open(key, n0, n1, n2, aad, aadOff, aadLen, data, off, len);
    }

    @Test
    void opensWhatTheScalarCipherSealedAndTheOtherWayRound() {
        Random rnd = new Random(20);
        byte[] key = new byte[32];
        rnd.nextBytes(key);
        int[] k = ChaCha20Poly1305.key(key, 0);
        try (Arena arena = Arena.ofConfined()) {
            for (int len : new int[] {0, 16, 96, 1024, 1408, 1424, 9000}) {
                MemorySegment seg = arena.allocate(len + 16);
                byte[] pt = new byte[len];
                rnd.nextBytes(pt);
                long counter = rnd.nextLong();
                MemorySegment.copy(pt, 0, seg, ValueLayout.JAVA_BYTE, 0, len);
                ChaCha20Poly1305.sealTransport(k, counter, seg, 0, len);
                assertTrue(VectorChaCha20Poly1305.openTransport(k, counter, seg, 0, len), "len=" + len);
                assertArrayEquals(pt, seg.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
                VectorChaCha20Poly1305.sealTransport(k, counter, seg, 0, len);
                assertTrue(ChaCha20Poly1305.openTransport(k, counter, seg, 0, len), "len=" + len);
                assertArrayEquals(pt, seg.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
            }
        }
    }

    /** Every length up to beyond two full vector passes: each way a message splits into full and half-width passes. */
    @Test
    void sealsTheScalarCiphersBytesAtEveryLength() {
        Random rnd = new Random(21);
        byte[] key = new byte[32];
        rnd.nextBytes(key);
        int[] k = ChaCha20Poly1305.key(key, 0);
        int max = (2 * ChaCha20Lanes.L + 2) * 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scalar = arena.allocate(max + 16), vector = arena.allocate(max + 16);
            for (int len = 0; len <= max; len++) {
                plaintext(rnd, len, scalar, vector);
                long counter = rnd.nextLong();
                ChaCha20Poly1305.sealTransport(k, counter, scalar, 0, len);
                VectorChaCha20Poly1305.sealTransport(k, counter, vector, 0, len);
                assertArrayEquals(scalar.asSlice(0, len + 16).toArray(ValueLayout.JAVA_BYTE),
                        vector.asSlice(0, len + 16).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
            }
        }
    }

    @Test
    void theWarmUpThreadSwitchesTransportDataOver() throws InterruptedException {
        warm();
    }

    /** Random plaintext of {@code len} bytes, copied to the start of both segments. */
    private static byte[] plaintext(Random rnd, int len, MemorySegment a, MemorySegment b) {
        byte[] pt = new byte[len];
        rnd.nextBytes(pt);
        MemorySegment.copy(pt, 0, a, ValueLayout.JAVA_BYTE, 0, len);
        MemorySegment.copy(pt, 0, b, ValueLayout.JAVA_BYTE, 0, len);
        return pt;
    }

    /** Starts the warm-up and waits for it, failing after 300 s. */
    private static void warm() throws InterruptedException {
        VectorChaCha20Poly1305.warmUp();
        // The warm-up ends once a whole sweep allocates nothing: on a busy machine the compiler may take minutes.
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!VectorChaCha20Poly1305.isWarm() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(VectorChaCha20Poly1305.isWarm(), "warm within 300 s");
    }

    @Test
    void theIfWarmEntriesTakeTheLanesOnceWarmAndSayWhichCodeRan() throws InterruptedException {
        warm();
        Random rnd = new Random(25);
        int[] k = ChaCha20Poly1305.key(new byte[32], 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scalar = arena.allocate(1500 + 16), vector = arena.allocate(1500 + 16);
            for (int len : new int[] {0, 1, 92, 255, 256, 1420, 1500}) {
                byte[] pt = plaintext(rnd, len, scalar, vector);
                long counter = rnd.nextLong();
                ChaCha20Poly1305.sealTransport(k, counter, scalar, 0, len);
                assertEquals(1, VectorChaCha20Poly1305.sealTransportIfWarm(k, counter, vector, 0, len), "sealed by the lanes, len=" + len);
                assertArrayEquals(scalar.asSlice(0, len + 16).toArray(ValueLayout.JAVA_BYTE),
                        vector.asSlice(0, len + 16).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
                vector.set(ValueLayout.JAVA_BYTE, len, (byte) (vector.get(ValueLayout.JAVA_BYTE, len) ^ 1));
                assertEquals(VectorChaCha20Poly1305.BY_LANES, VectorChaCha20Poly1305.openTransportIfWarm(k, counter, vector, 0, len),
                        "a forged tag refused by the lanes, len=" + len);
                vector.set(ValueLayout.JAVA_BYTE, len, (byte) (vector.get(ValueLayout.JAVA_BYTE, len) ^ 1));
                assertEquals(VectorChaCha20Poly1305.OPENED | VectorChaCha20Poly1305.BY_LANES,
                        VectorChaCha20Poly1305.openTransportIfWarm(k, counter, vector, 0, len), "opened by the lanes, len=" + len);
                assertArrayEquals(pt, vector.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), "len=" + len);
            }
        }
    }
}
