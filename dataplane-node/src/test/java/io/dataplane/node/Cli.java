package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./dataplane} as a user runs it, for the CLI tests (*IT, run by failsafe after the jar is
 * packaged): the script at the repository root, told not to build ({@code DATAPLANE_SKIP_BUILD=1},
 * so a test never starts a Maven build), and a node's config directory written as a user writes it.
 */
final class Cli {
    private Cli() {}

    /**
     * How long a node may take to exit once it stops (SIGTERM, or a fault it stops for): its JVM may
     * be the one that records the launcher's AOT configuration (one run per jar build, JDK and
     * options), which it writes as it exits, after the node has stopped, in a safepoint of seconds
     * on a loaded machine (5.8 s at load 18). Kubernetes' default grace period, after which the
     * kubelet kills the node and the recording is lost.
     */
    static final Duration NODE_EXIT = Duration.ofSeconds(30);

    /** The repository root: failsafe's {@code dataplane.root}, else found upwards from the working directory. */
    static Path root() {
        String configured = System.getProperty("dataplane.root");
        if (configured != null) return Path.of(configured).toAbsolutePath().normalize();
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isExecutable(p.resolve("dataplane")) && Files.exists(p.resolve("mvnw"))) return p;
        }
        throw new IllegalStateException("no ./dataplane above " + Path.of("").toAbsolutePath());
    }

    /** {@code ./dataplane ARGS}, run from the repository root, without building. */
    static ProcessBuilder dataplane(String... args) {
        List<String> command = new ArrayList<>();
        command.add(root().resolve("dataplane").toString());
        command.addAll(List.of(args));
        return builder(command);
    }

    /** {@code ip netns exec NS ./dataplane ARGS}: the node as a user starts it inside a namespace. */
    static ProcessBuilder dataplaneIn(Testbed.Host host, String... args) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", host.name(), root().resolve("dataplane").toString()));
        command.addAll(List.of(args));
        return builder(command);
    }

    private static ProcessBuilder builder(List<String> command) {
        ProcessBuilder b = new ProcessBuilder(command).directory(root().toFile());
        b.environment().put("DATAPLANE_SKIP_BUILD", "1");
        return b;
    }

    /**
     * What {@code ./dataplane} runs (the script, the JDK finder, the node's jar and its lib)
     * copied into {@code dir}, every file and directory readable by every user: a test that runs
     * the node as another user (nobody) does not depend on who may read the checkout. Returns the
     * copy's {@code dataplane}; the caller deletes {@code dir}.
     */
    static Path readableCopy(Path dir) throws IOException {
        Path target = root().resolve("dataplane-node/target");
        List<Path> files = new ArrayList<>(List.of(root().resolve("dataplane"), root().resolve(".mvn/find-jdk.sh")));
        try (var jars = Files.list(target)) {
            jars.filter(f -> f.getFileName().toString().matches("dataplane-node-[^/]*(?<!-tests|-sources|-javadoc)\\.jar")).forEach(files::add);
        }
        try (var lib = Files.list(target.resolve("lib"))) {
            lib.forEach(files::add);
        }
        for (Path f : files) {
            Path copy = dir.resolve(root().relativize(f));
            Files.createDirectories(copy.getParent());
            Files.copy(f, copy, StandardCopyOption.COPY_ATTRIBUTES);
        }
        try (var all = Files.walk(dir)) {
            for (Path f : all.toList()) {
                boolean exec = Files.isDirectory(f) || f.getFileName().toString().equals("dataplane");
                Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return dir.resolve("dataplane");
    }

    /** Runs {@code builder} to its end (at most {@code timeout}) and returns it, finished. */
    static Tool run(ProcessBuilder builder, Duration timeout) throws IOException, InterruptedException {
        Tool t = Tool.start(builder);
        if (!t.await(timeout)) {
            t.close();
            throw new AssertionError(String.join(" ", builder.command()) + ": still running after " + timeout + "\n" + t.output());
        }
        return t;
    }

    /** Waits until {@code tool}'s standard output has a line that starts with {@code start}; returns that line. */
    static String awaitLine(Tool tool, String start, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String line : tool.stdout().split("\n")) {
                if (line.startsWith(start)) return line;
            }
            if (!tool.isAlive()) throw new AssertionError("ended before printing a line starting \"" + start + "\":\n" + tool.output());
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no line starting \"" + start + "\" within " + timeout + ":\n" + tool.output());
            }
            Thread.sleep(20);
        }
    }

    /** A node's config directory: flannel's three files. */
    record ConfigDir(Path dir) {
        /** A directory under {@code parent} for {@code host}: net-conf.json of {@code backend}, its subnet.env, peers.json {@code []}. */
        static ConfigDir of(Path parent, Testbed.Host host, String backend) throws IOException {
            ConfigDir c = new ConfigDir(Files.createDirectories(parent.resolve(host.name())));
            c.write("net-conf.json", "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\"}}\n");
            // As flanneld writes it, the subnet's first address; no FLANNEL_MTU: the node computes it from the underlay.
            c.write("subnet.env", "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=" + host.podText() + "/24\nFLANNEL_IPMASQ=false\n");
            c.write("peers.json", "[]\n");
            return c;
        }

        /** Replaces {@code name} in place (truncate and write, as {@code echo > file}). */
        void write(String name, String text) throws IOException {
            Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
        }

        /** Replaces {@code name} as editors do: a new file renamed over the old one. */
        void replace(String name, String text) throws IOException {
            Path tmp = dir.resolve("." + name + ".swp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        /** peers.json with these lease lines, by rename. */
        void peers(String... leases) throws IOException {
            replace("peers.json", "[" + String.join(",\n ", leases) + "]\n");
        }

        /** The directory as an argument. */
        String arg() {
            return dir.toString();
        }

        /** A file of the directory, as the node names it in its messages. */
        String file(String name) {
            return dir.resolve(name).toString();
        }
    }

    /** Asserts that {@code text} holds {@code part}, showing the whole text when not. */
    static void assertContains(String text, String part) {
        assertTrue(text.contains(part), () -> "expected \"" + part + "\" in:\n" + text);
    }
}
