package io.dataplane.bench;

import io.dataplane.wireguard.TransportCipher;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link WireGuardBenchmark}'s {@code seal} and {@code sealOpen} for every transport cipher and both
 * packet sizes, timed in this thread's CPU time instead of wall-clock time: on a small shared
 * machine whose load exceeds its cores, JMH's wall-clock scores swing by more than the differences
 * between the ciphers, while the CPU time one operation costs holds still. JMH stays the reference
 * for allocation ({@code -prof gc}) and for an idle machine.
 *
 * <p>{@link TransportCipherAb} runs these rows for several builds side by side in one JVM.
 *
 * <p>Not a JMH benchmark: each row runs {@code WARMUP} operations, then {@code ROUNDS} rounds of
 * {@code OPS} operations, and prints the median round's CPU nanoseconds per operation.
 *
 * <p>usage: {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector
 * -cp benchmarks/target/benchmarks.jar io.dataplane.bench.TransportCipherCpuTime [OPS [CIPHERS [SIZES]]]},
 * {@code CIPHERS} a comma-separated list of {@link TransportCipher} names (default all),
 * {@code SIZES} one of inner packet lengths (default {@code 1400,92}).
 */
public final class TransportCipherCpuTime {
    private static final int WARMUP = 200_000;
    private static final int ROUNDS = 5;

    private TransportCipherCpuTime() {}

    /** Prints one table: rows ciphers, columns seal and seal+open at each size. */
    public static void main(String[] args) throws Exception {
        int ops = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        TransportCipher[] ciphers = args.length > 1 && !args[1].equals("all")
                ? Arrays.stream(args[1].split(",")).map(TransportCipher::valueOf).toArray(TransportCipher[]::new)
                : TransportCipher.values();
        int[] sizes = Arrays.stream((args.length > 2 ? args[2] : "1400,92").split(",")).mapToInt(Integer::parseInt).toArray();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        StringBuilder header = new StringBuilder("| cipher"), rule = new StringBuilder("|---");
        for (int inner : sizes) {
            header.append(" | seal ").append(inner).append(" B | seal+open ").append(inner).append(" B");
            rule.append("|---|---");
        }
        System.out.println(header.append(" |"));
        System.out.println(rule.append('|'));
        for (TransportCipher cipher : ciphers) {
            if (cipher.unavailabilityCause() != null) {
                System.out.println("| " + cipher + " | unavailable: " + cipher.unavailabilityCause() + " |".repeat(2 * sizes.length));
                continue;
            }
            StringBuilder row = new StringBuilder("| " + cipher);
            for (int inner : sizes) {
                WireGuardBenchmark b = new WireGuardBenchmark();
                b.cipher = cipher;
                b.inner = inner;
                b.setUp();
                try {
                    for (boolean open : new boolean[] {false, true}) {
                        run(b, open, WARMUP);
                        long[] perOp = new long[ROUNDS];
                        for (int r = 0; r < ROUNDS; r++) {
                            long t0 = mx.getCurrentThreadCpuTime();
                            run(b, open, ops);
                            perOp[r] = (mx.getCurrentThreadCpuTime() - t0) / ops;
                        }
                        Arrays.sort(perOp);
                        row.append(String.format(Locale.ROOT, " | %,d ns", perOp[ROUNDS / 2]));
                    }
                } finally {
                    b.tearDown();
                }
            }
            System.out.println(row.append(" |"));
        }
    }

    private static void run(WireGuardBenchmark b, boolean open, int ops) {
        for (int i = 0; i < ops; i++) {
            if (open) {
                b.sealOpen();
            } else {
                b.seal();
            }
        }
    }
}
