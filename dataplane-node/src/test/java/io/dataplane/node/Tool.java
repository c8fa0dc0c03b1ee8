package io.dataplane.node;

import io.dataplane.core.testing.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A tool (ping, iperf3, tshark) running as a child process, its output collected. {@link #close}
 * stops it by its own PID (SIGTERM, then SIGKILL after two seconds) if it still runs.
 */
final class Tool implements AutoCloseable {
    private final String command;
    private final Process process;
    private final Collector stdout;
    private final Collector stderr;

    private Tool(String command, Process process) {
        this.command = command;
        this.process = process;
        this.stdout = new Collector(process.getInputStream());
        this.stderr = new Collector(process.getErrorStream());
    }

    /** Starts {@code command}. */
    static Tool start(String... command) throws IOException {
        return start(new ProcessBuilder(command));
    }

    /** Starts the command {@code builder} describes (its environment, its directory). */
    static Tool start(ProcessBuilder builder) throws IOException {
        Prerequisites.programOf(builder.command());
        return new Tool(String.join(" ", builder.command()), builder.start());
    }

    /** Runs {@code command} to its end (at most {@code timeout}) and returns it, finished. */
    static Tool run(Duration timeout, String... command) throws IOException, InterruptedException {
        Tool t = start(command);
        if (!t.await(timeout)) {
            t.close();
            throw new AssertionError(t.command + ": still running after " + timeout + "\n" + t.output());
        }
        return t;
    }

    /** Waits up to {@code timeout} for the process to end; true if it did. */
    boolean await(Duration timeout) throws InterruptedException {
        boolean ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (ended) {
            stdout.join();
            stderr.join();
        }
        return ended;
    }

    /** Waits until standard error contains {@code text} (tshark's "Capturing on"), at most {@code timeout}. */
    void awaitStderr(String text, Duration timeout) throws InterruptedException {
        awaitText(stderr, text, timeout);
    }

    /** Waits until standard output contains {@code text} (iperf3's "Server listening"), at most {@code timeout}. */
    void awaitStdout(String text, Duration timeout) throws InterruptedException {
        awaitText(stdout, text, timeout);
    }

    private void awaitText(Collector stream, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!stream.text().contains(text)) {
            if (!process.isAlive()) throw new AssertionError(command + " ended before printing \"" + text + "\":\n" + output());
            if (System.nanoTime() > deadline) throw new AssertionError(command + " did not print \"" + text + "\" within " + timeout + ":\n" + output());
            Thread.sleep(20);
        }
    }

    /** The exit code; the process must have ended. */
    int exitCode() {
        return process.exitValue();
    }

    /** Standard output so far. */
    String stdout() {
        return stdout.text();
    }

    /** Standard error so far. */
    String stderr() {
        return stderr.text();
    }

    /** True while the process runs. */
    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Sends SIGTERM to the process by its PID, without waiting. Through its {@link ProcessHandle}:
     * {@link Process#destroy()} also closes our ends of its pipes, and what the process prints
     * while it shuts down would be lost.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    /** Both streams, for failure messages. */
    String output() {
        return "$ " + command + "\n" + stdout.text() + stderr.text();
    }

    /** The process's PID. */
    long pid() {
        return process.pid();
    }

    /** The process, to hold in {@link io.dataplane.tun.testing.Leftovers}. */
    ProcessHandle handle() {
        return process.toHandle();
    }

    /** Stops the process by its PID if it still runs. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Reads a stream to its end on a daemon thread. */
    private static final class Collector {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Collector(InputStream in) {
            thread = Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        synchronized (bytes) {
                            bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // The process was stopped; what was read stays.
                }
            });
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }

        void join() throws InterruptedException {
            thread.join(5000);
        }
    }
}
