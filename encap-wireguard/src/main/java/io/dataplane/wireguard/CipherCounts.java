package io.dataplane.wireguard;

import java.util.concurrent.atomic.LongAdder;

/**
 * Transport messages sealed and opened, by the cipher code that did it ({@link TransportCipher#VECTOR},
 * {@link TransportCipher#SEGMENT} or {@link TransportCipher#JDK}): a device's, read through
 * {@link WireGuardDevice#transportMessages}. Counted by every packet thread without contention
 * ({@link LongAdder}).
 */
final class CipherCounts {
    private final LongAdder[] sealed = adders(), opened = adders(), sealedBytes = adders(), openedBytes = adders();

    /** One message of {@code len} payload bytes (padded) sealed by {@code code}. */
    void sealed(TransportCipher code, int len) {
        sealed[code.ordinal()].increment();
        sealedBytes[code.ordinal()].add(len);
    }

    /** One message of {@code len} ciphertext bytes opened, or refused for its tag, by {@code code}. */
    void opened(TransportCipher code, int len) {
        opened[code.ordinal()].increment();
        openedBytes[code.ordinal()].add(len);
    }

    /**
     * By {@code code} so far: messages sealed ({@code [0]}) and opened ({@code [1]}), and their
     * payload bytes, padded, without header and tag ({@code [2]}, {@code [3]}).
     */
    long[] get(TransportCipher code) {
        int c = code.ordinal();
        return new long[] {sealed[c].sum(), opened[c].sum(), sealedBytes[c].sum(), openedBytes[c].sum()};
    }

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[TransportCipher.values().length];
        for (int i = 0; i < a.length; i++) a[i] = new LongAdder();
        return a;
    }
}
