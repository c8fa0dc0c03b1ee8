package io.dataplane.node;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when a secret it made (a node's WireGuard private key, a preshared key) shows in
 * anything the test's JVM logged at any level or printed to stdout or stderr: in base64 as keys are
 * written, or in hex. Secrets are registered as they come to exist ({@link Testbed#start} registers
 * the key file of every node it starts and the PSK of its config).
 *
 * <p>Use with {@code @ExtendWith(SecretLeakCheck.class)}; {@link Capture} is the part that records.
 */
final class SecretLeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final Set<String> SECRETS = ConcurrentHashMap.newKeySet();
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SecretLeakCheck.class);

    /** Registers a 32-byte key given in base64: it may not appear in base64, nor as hex. */
    static void secret(String base64) {
        byte[] key = Base64.getDecoder().decode(base64.strip());
        SECRETS.add(Base64.getEncoder().encodeToString(key));
        SECRETS.add(HexFormat.of().formatHex(key));
        SECRETS.add(HexFormat.of().withUpperCase().formatHex(key));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put(Capture.class, new Capture());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try (Capture capture = context.getStore(NS).remove(Capture.class, Capture.class)) {
            List<String> leaks = capture.leaks(SECRETS);
            if (!leaks.isEmpty()) throw new AssertionError("key material in the test's output:\n" + String.join("\n", leaks));
        }
    }

    /**
     * Records, while open, every log record (java.util.logging, which System.Logger and Netty use):
     * our own loggers ({@code io.dataplane.*}) at every level, others at their configured level; and
     * everything written to System.out and System.err, still passing it on. Only our loggers are
     * opened up: the JDK's own debug records (ProcessBuilder logs each start with a stack trace)
     * would otherwise reach every other handler too.
     */
    static final class Capture implements AutoCloseable {
        private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
        private final StringBuffer logged = new StringBuffer();
        private final PrintStream out = System.out;
        private final PrintStream err = System.err;
        private final Logger root = Logger.getLogger("");
        private final Logger ours = Logger.getLogger("io.dataplane");
        private final Level oursLevel = ours.getLevel();
        private final Handler handler = new Handler() {
            private final SimpleFormatter formatter = new SimpleFormatter();

            @Override
            public void publish(LogRecord r) {
                logged.append(formatter.format(r));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };

        Capture() {
            handler.setLevel(Level.ALL);
            ours.setLevel(Level.ALL);
            root.addHandler(handler);
            System.setOut(new PrintStream(tee(out), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(tee(err), true, StandardCharsets.UTF_8));
        }

        private OutputStream tee(PrintStream original) {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    original.write(b);
                    synchronized (printed) {
                        printed.write(b);
                    }
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    original.write(b, off, len);
                    synchronized (printed) {
                        printed.write(b, off, len);
                    }
                }
            };
        }

        /** Each line of output or log that holds one of {@code secrets}, with what it held. */
        List<String> leaks(Set<String> secrets) {
            String text;
            synchronized (printed) {
                text = printed.toString(StandardCharsets.UTF_8) + "\n" + logged;
            }
            List<String> leaks = new ArrayList<>();
            for (String line : text.split("\n")) {
                for (String s : secrets) {
                    if (line.contains(s)) leaks.add("  " + line.replace(s, "<secret " + s.substring(0, 4) + "...>"));
                }
            }
            return leaks;
        }

        @Override
        public void close() {
            System.setOut(out);
            System.setErr(err);
            root.removeHandler(handler);
            ours.setLevel(oursLevel);
        }
    }
}
