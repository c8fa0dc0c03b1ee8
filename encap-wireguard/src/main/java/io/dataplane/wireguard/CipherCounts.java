package io.dataplane.wireguard;

import java.util.concurrent.atomic.LongAdder;

/**
 * Transport payload bytes sealed and opened, by the cipher code that did it
 * ({@link TransportCipher#VECTOR}, {@link TransportCipher#SEGMENT} or {@link TransportCipher#JDK}):
 * a device's, read through {@link WireGuardDevice#transportBytes}. Bytes rather than messages: the
 * cost of a cipher follows them, and one count per message is one atomic add on the packet path.
 * Counted by every packet thread without contention ({@link LongAdder}).
 */
final class CipherCounts {
    private final LongAdder[] sealed = adders(), opened = adders();

    /** One message of {@code len} payload bytes (padded) sealed by {@code code}. */
    void sealed(TransportCipher code, int len) {
        sealed[code.ordinal()].add(len);
    }

    /** One message of {@code len} ciphertext bytes opened, or refused for its tag, by {@code code}. */
    void opened(TransportCipher code, int len) {
        opened[code.ordinal()].add(len);
    }

    /** Payload bytes (padded, without header and tag) sealed ({@code [0]}) and opened ({@code [1]}) by {@code code} so far. */
    long[] get(TransportCipher code) {
        int c = code.ordinal();
        return new long[] {sealed[c].sum(), opened[c].sum()};
    }

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[TransportCipher.values().length];
        for (int i = 0; i < a.length; i++) a[i] = new LongAdder();
        return a;
    }
}
