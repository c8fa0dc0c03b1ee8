package io.dataplane.wireguard.crypto;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Random bytes from the kernel's pool ({@code /dev/urandom}), as {@code wg genkey} and wireguard-go
 * take theirs: private keys, preshared keys, session indices, cookie secrets and nonces.
 *
 * <p>Read straight from the kernel rather than through {@code java.security.SecureRandom}, whose
 * default on Linux reads the same device but through the JDK's provider framework (security
 * properties, provider lists, a DRBG), which a WireGuard node would load and keep resident for a
 * few hundred bytes every two minutes. One stream, opened at first use and kept open, read a
 * buffer at a time (a device's index table draws an int per slot when it is made); calls are
 * serialized.
 */
public final class KernelRandom {
    private static final String SOURCE = "/dev/urandom";
    private static final int BUFFER_LEN = 256;
    private static final byte[] BUFFER = new byte[BUFFER_LEN];
    /** Bytes of {@link #BUFFER} not handed out yet, at its end. */
    private static int left;
    private static InputStream in;

    private KernelRandom() {}

    /** Fills {@code b} with random bytes; throws {@link UncheckedIOException} naming the device if it cannot be read. */
    public static synchronized void nextBytes(byte[] b) {
        for (int done = 0; done < b.length; ) {
            if (left == 0) refill();
            int n = Math.min(left, b.length - done);
            System.arraycopy(BUFFER, BUFFER_LEN - left, b, done, n);
            // Handed-out bytes do not stay behind.
            java.util.Arrays.fill(BUFFER, BUFFER_LEN - left, BUFFER_LEN - left + n, (byte) 0);
            left -= n;
            done += n;
        }
    }

    private static void refill() {
        try {
            if (in == null) in = new FileInputStream(SOURCE);
            if (in.readNBytes(BUFFER, 0, BUFFER_LEN) != BUFFER_LEN) throw new IOException("end of stream");
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + SOURCE + " failed: " + e.getMessage(), e);
        }
        left = BUFFER_LEN;
    }

    /** A random int, every value equally likely. */
    public static int nextInt() {
        byte[] b = new byte[4];
        nextBytes(b);
        return b[0] & 0xff | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    /** A random int in {@code [0, bound)}, every value equally likely (rejection of the top's remainder). */
    public static int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("random bound must be positive: bound=" + bound);
        // The largest multiple of bound that fits in 31 bits: values at or past it would favour the low results.
        int limit = Integer.MAX_VALUE - (int) ((Integer.MAX_VALUE + 1L) % bound);
        while (true) {
            int r = nextInt() & Integer.MAX_VALUE;
            if (r <= limit) return r % bound;
        }
    }
}
