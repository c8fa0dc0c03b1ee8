package io.dataplane.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a test needs of the machine (root, a TUN, a kernel feature, a program), in one place: a
 * test whose need is not met skips, saying what is missing and, for a program, the Debian package
 * that has it. Where every test must run (CI), a skip is a failure instead, so that a missing
 * install step can never hide a test: with the environment variable {@code CI=true} (CI services
 * set it) or the system property {@code -Ddataplane.test.noSkips=true}.
 */
public final class Prerequisites {
    /** The system property that turns every skip into a failure. */
    public static final String NO_SKIPS_PROPERTY = "dataplane.test.noSkips";

    /** The Debian package of each program a test runs; the README's install line installs all of them. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("ip", "iproute2"),
            Map.entry("bridge", "iproute2"),
            Map.entry("tc", "iproute2"),
            Map.entry("ping", "iputils-ping"),
            Map.entry("iperf3", "iperf3"),
            Map.entry("tshark", "tshark"),
            Map.entry("ethtool", "ethtool"),
            Map.entry("wg", "wireguard-tools"),
            Map.entry("wireguard-go", "wireguard-go"),
            Map.entry("gcc", "gcc"),
            Map.entry("etcd", "etcd-server"),
            Map.entry("etcdctl", "etcd-client"),
            Map.entry("iptables", "iptables"),
            Map.entry("openssl", "openssl"),
            Map.entry("setpriv", "util-linux"),
            Map.entry("runuser", "util-linux"),
            Map.entry("unshare", "util-linux"),
            Map.entry("mknod", "coreutils"),
            Map.entry("mkfifo", "coreutils"),
            Map.entry("kill", "procps"),
            Map.entry("sysctl", "procps"));
    /** Where the Debian package containernetworking-plugins puts the CNI plugins. */
    private static final Path CNI_DIR = Path.of("/usr/lib/cni");

    private Prerequisites() {}

    /** True if skips are failures here ({@code CI=true} or {@code -Ddataplane.test.noSkips=true}). */
    public static boolean noSkips() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean(NO_SKIPS_PROPERTY);
    }

    /**
     * Skips the calling test unless {@code met}, with {@code reason} (what is missing and how to get
     * it); fails instead where skips are failures ({@link #noSkips}).
     */
    public static void require(boolean met, String reason) {
        if (met) return;
        if (noSkips()) {
            fail("required here (CI=true or -D" + NO_SKIPS_PROPERTY + "=true), but " + reason);
        }
        System.out.println("SKIPPED: " + reason);
        assumeTrue(false, reason);
    }

    /** Skips (or fails, see {@link #require}) unless {@code program} is on the PATH, naming its Debian package. */
    public static void program(String program) {
        require(onPath(program), program + " is not installed (Debian package " + packageOf(program) + ": apt-get install "
                + packageOf(program) + ")");
    }

    /**
     * For a part of a test that can be left out: true if {@code program} is on the PATH; false,
     * saying that the part is skipped and why, if it is not; a failure where skips are.
     */
    public static boolean available(String program) {
        if (onPath(program)) return true;
        String reason = program + " is not installed (Debian package " + packageOf(program) + ")";
        if (noSkips()) fail("required here (CI=true or -D" + NO_SKIPS_PROPERTY + "=true), but " + reason);
        System.out.println("SKIPPED part of the test: " + reason);
        return false;
    }

    /** {@link #program} for every program in {@code programs}. */
    public static void programs(String... programs) {
        for (String p : programs) program(p);
    }

    /**
     * {@link #program} for the program {@code command} runs: its first word, or the one after
     * {@code ip netns exec NS}. For the helpers that start the tests' processes, so that no test
     * fails for a program the machine lacks.
     */
    public static void programOf(List<String> command) {
        if (command.isEmpty()) return;
        boolean inNamespace = command.size() > 4 && command.get(0).equals("ip") && command.get(1).equals("netns")
                && command.get(2).equals("exec");
        if (inNamespace) program("ip");
        String program = inNamespace ? command.get(4) : command.get(0);
        if (!program.contains("/")) program(program);
    }

    /** Skips (or fails) unless the CNI plugin {@code plugin} is in {@code /usr/lib/cni}. */
    public static void cniPlugin(String plugin) {
        require(Files.isExecutable(CNI_DIR.resolve(plugin)),
                "the CNI plugin " + plugin + " is not in " + CNI_DIR + " (Debian package containernetworking-plugins: apt-get install"
                        + " containernetworking-plugins)");
    }

    /** The Debian package that has {@code program}, or the program's name where none is known. */
    public static String packageOf(String program) {
        return PACKAGES.getOrDefault(program, program);
    }

    /** True if {@code program} is an executable in a directory of the PATH. */
    public static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) return true;
        }
        return false;
    }

    /**
     * A directory of links to every program on the PATH except {@code missing}, for a child
     * process that must run as on a machine without them (PATH set to it alone); the caller
     * removes it with {@link #deleteTree}.
     */
    public static Path pathWithout(Set<String> missing) throws IOException {
        Path dir = Files.createTempDirectory("dp-path");
        for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(File.pathSeparator)) {
            Path from = Path.of(d);
            if (d.isEmpty() || !Files.isDirectory(from)) continue;
            try (Stream<Path> files = Files.list(from)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (missing.contains(name) || Files.exists(dir.resolve(name), java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
                    if (Files.isExecutable(f) && !Files.isDirectory(f)) Files.createSymbolicLink(dir.resolve(name), f.toAbsolutePath());
                }
            }
        }
        return dir;
    }

    /** Deletes {@code root} and everything under it (links, not what they point to). */
    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
