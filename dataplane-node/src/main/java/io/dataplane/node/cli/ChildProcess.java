package io.dataplane.node.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tool the demo runs ({@code ip}, to build its underlay), its output collected on two
 * daemon threads. {@link #stop} ends it by its own PID: SIGTERM, then SIGKILL after a second.
 */
final class ChildProcess {
    private final List<String> command;
    private final Process process;
    private final Collector stdout;
    private final Collector stderr;

    private ChildProcess(List<String> command, Process process) {
        this.command = command;
        this.process = process;
        this.stdout = new Collector(process.getInputStream());
        this.stderr = new Collector(process.getErrorStream());
    }

    /** Starts {@code command}, standard input closed. */
    static ChildProcess start(List<String> command) throws IOException {
        return new ChildProcess(List.copyOf(command), new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).start());
    }

    /**
     * Runs {@code command} to its end and returns its standard output.
     *
     * @throws IOException naming the command, its exit code and its output when it fails or takes
     *     longer than 30 s
     */
    static String run(List<String> command) throws IOException, InterruptedException {
        ChildProcess p = start(command);
        if (!p.await(Duration.ofSeconds(30))) {
            p.stop();
            throw new IOException(p.commandLine() + ": still running after 30 s");
        }
        if (p.exitCode() != 0) throw new IOException(p.commandLine() + ": exit code " + p.exitCode() + ": " + p.output().strip());
        return p.stdout();
    }

    /** Waits up to {@code timeout} for the process to end; true if it did (its output is then complete). */
    boolean await(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return false;
        stdout.join();
        stderr.join();
        return true;
    }

    /** Waits until standard output contains {@code text}; false if the process ended first or {@code timeout} passed. */
    boolean awaitStdout(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!stdout.text().contains(text)) {
            if (!process.isAlive() || System.nanoTime() > deadline) return false;
            Thread.sleep(20);
        }
        return true;
    }

    /** True while the process runs. */
    boolean isAlive() {
        return process.isAlive();
    }

    /** The exit code; the process must have ended. */
    int exitCode() {
        return process.exitValue();
    }

    /** The process's PID. */
    long pid() {
        return process.pid();
    }

    /** Standard output so far. */
    String stdout() {
        return stdout.text();
    }

    /** Standard output and error so far. */
    String output() {
        return stdout.text() + stderr.text();
    }

    /** The command as one line. */
    String commandLine() {
        return String.join(" ", command);
    }

    /** The tool's name: the command after {@code ip netns exec NS}. */
    String name() {
        int at = command.size() > 4 && command.get(0).equals("ip") && command.get(1).equals("netns") ? 4 : 0;
        return command.get(at);
    }

    /**
     * Stops the process by its PID if it still runs: SIGTERM, then SIGKILL after a second.
     *
     * @return true if it was running
     */
    boolean stop() throws InterruptedException {
        if (!process.isAlive()) return false;
        process.destroy();
        if (!process.waitFor(1, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        return true;
    }

    /** Reads a stream to its end on a daemon thread. */
    private static final class Collector {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Collector(InputStream in) {
            thread = Thread.ofPlatform().daemon().name("child-output").start(() -> {
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
