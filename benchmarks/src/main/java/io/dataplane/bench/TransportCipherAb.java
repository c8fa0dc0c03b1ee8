package io.dataplane.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link TransportCipherCpuTime}'s rows of one cipher for several builds side by side in one JVM:
 * each benchmarks jar in a class loader of its own (its own copy of the cipher, compiled on its
 * own), the rounds of the builds interleaved on one thread, so that a shared machine's load and
 * the JVM's flags fall on all of them alike. Prints, per size and operation, each build's median
 * round in CPU nanoseconds per operation and its ratio to the first build's.
 *
 * <p>usage: {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector [JVM flags]
 * -cp benchmarks/target/benchmarks.jar io.dataplane.bench.TransportCipherAb JAR,JAR[,...] [OPS [ROUNDS [CIPHER [SIZES]]]]}
 * (defaults 20000 operations a round, 21 rounds, {@code VECTOR}, {@code 1400,92}).
 */
public final class TransportCipherAb {
    private static final int WARMUP = 200_000;

    private TransportCipherAb() {}

    /** Prints one line per size and operation. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) throw new IllegalArgumentException("usage: TransportCipherAb JAR,JAR[,...] [OPS [ROUNDS [CIPHER [SIZES]]]]");
        String[] jars = args[0].split(",");
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 21;
        String cipher = args.length > 3 ? args[3] : "VECTOR";
        int[] sizes = Arrays.stream((args.length > 4 ? args[4] : "1400,92").split(",")).mapToInt(Integer::parseInt).toArray();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int n = jars.length;
        for (int size : sizes) {
            Object[] bench = new Object[n];
            Method[] run = new Method[n], tearDown = new Method[n];
            for (int i = 0; i < n; i++) {
                ClassLoader loader = new URLClassLoader(new URL[] {Path.of(jars[i]).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
                Class<?> type = loader.loadClass(WireGuardBenchmark.class.getName());
                bench[i] = type.getConstructor().newInstance();
                type.getField("cipher").set(bench[i], cipherOf(loader, cipher));
                type.getField("inner").setInt(bench[i], size);
                type.getMethod("setUp").invoke(bench[i]);
                run[i] = loader.loadClass(TransportCipherCpuTime.class.getName()).getDeclaredMethod("run", type, boolean.class, int.class);
                run[i].setAccessible(true);
                tearDown[i] = type.getMethod("tearDown");
            }
            for (boolean open : new boolean[] {false, true}) {
                for (int i = 0; i < n; i++) run[i].invoke(null, bench[i], open, WARMUP);
                long[][] perOp = new long[n][rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int k = 0; k < n; k++) {
                        int i = (r + k) % n; // each build first in turn
                        long t0 = mx.getCurrentThreadCpuTime();
                        run[i].invoke(null, bench[i], open, ops);
                        perOp[i][r] = (mx.getCurrentThreadCpuTime() - t0) / ops;
                    }
                }
                StringBuilder line = new StringBuilder(cipher + (open ? " seal+open " : " seal ") + size + " B:");
                long first = 0;
                for (int i = 0; i < n; i++) {
                    Arrays.sort(perOp[i]);
                    long median = perOp[i][rounds / 2];
                    if (i == 0) first = median;
                    line.append(String.format(Locale.ROOT, " %s %,d ns (%.2fx)", jars[i], median, (double) median / first));
                }
                System.out.println(line);
            }
            for (int i = 0; i < n; i++) tearDown[i].invoke(bench[i]);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object cipherOf(ClassLoader loader, String name) throws ClassNotFoundException {
        return Enum.valueOf((Class) loader.loadClass("io.dataplane.wireguard.TransportCipher"), name);
    }
}
