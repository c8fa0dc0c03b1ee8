package io.dataplane.bench;

import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What the vector cipher's warm-up costs a JVM on its own: {@link VectorChaCha20Poly1305#warmUp}
 * until {@link VectorChaCha20Poly1305#isWarm}, then the seconds it took, the collections (and their
 * pauses) its boxed vectors caused, and the process's CPU time (the warm-up thread and C2). Run it
 * with the launcher's JVM options, where a young generation of 2 MB counts every 2 MB of garbage.
 *
 * <p>usage: {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector
 * -XX:+UseSerialGC -Xms8m -Xmx256m -Xmn2m -XX:-TieredCompilation
 * -cp benchmarks/target/benchmarks.jar io.dataplane.bench.VectorWarmUpCost}
 */
public final class VectorWarmUpCost {
    private VectorWarmUpCost() {}

    /** Prints one line; exits 1 where the vector cipher is unavailable or never turns warm within a minute. */
    public static void main(String[] args) throws InterruptedException {
        if (!VectorChaCha20Poly1305.isAvailable()) {
            System.out.println("vector cipher unavailable: " + VectorChaCha20Poly1305.unavailabilityCause());
            System.exit(1);
        }
        long start = System.nanoTime();
        VectorChaCha20Poly1305.warmUp();
        while (!VectorChaCha20Poly1305.isWarm()) {
            if (System.nanoTime() - start > 60_000_000_000L) {
                System.out.println("not warm after 60 s");
                System.exit(1);
            }
            Thread.sleep(10);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long collections = 0, pauseMs = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            collections += gc.getCollectionCount();
            pauseMs += gc.getCollectionTime();
        }
        double cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
        System.out.printf(Locale.ROOT, "warm after %.2f s: %d collections (%d ms of pauses), process CPU %.2f s%n",
                seconds, collections, pauseMs, cpu);
    }
}
