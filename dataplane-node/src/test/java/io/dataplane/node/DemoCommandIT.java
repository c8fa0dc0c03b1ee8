package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.Leftovers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ./dataplane demo} as a user runs it on a machine without iproute2, ping, iperf3 or any
 * other tool (a PATH without them): it exits 0 after its own ICMP echo and TCP stream crossed the overlay,
 * and leaves nothing behind, neither namespaces (and so no veth pair or TUN) nor
 * processes nor its state directory; Ctrl-C in the middle of the traffic cleans up the same way;
 * a backend this build lacks is refused in one line. The processes the demo started are found
 * while it runs (its descendants) and checked by PID afterwards.
 */
class DemoCommandIT {
    private static final Pattern NAMESPACES = Pattern.compile("(?m)^underlay: (\\S+) veth0 .* veth0 \\S+ (\\S+)$");
    private static final Pattern STATE_DIR = Pattern.compile("(?m)^cleanup: deleted state directory (\\S+)$");

    /** The programs a machine with only a JDK lacks: the demo runs without any of them. */
    private static final Set<String> TOOLS = Set.of("ip", "bridge", "tc", "ping", "iperf3", "tshark", "ethtool", "wg", "wireguard-go", "gcc",
            "etcd", "etcdctl");

    private static Path bareBin;
    private static Leftovers.Hold bareBinHold;

    /** Held in {@link Leftovers}: a run stopped before {@link #removePath} leaves no directory of links in /tmp. */
    @BeforeAll
    static void pathWithoutTools() throws Exception {
        bareBin = Prerequisites.pathWithout(TOOLS);
        bareBinHold = Leftovers.path(bareBin);
    }

    @AfterAll
    static void removePath() {
        if (bareBin != null) Leftovers.deleteTree(bareBin, bareBinHold);
    }

    /** {@code ./dataplane demo ARGS} with a PATH that has none of {@link #TOOLS}. */
    private static ProcessBuilder demo(String... args) {
        ProcessBuilder b = Cli.dataplane(args);
        b.environment().put("PATH", bareBin.toString());
        return b;
    }

    @ParameterizedTest
    @MethodSource("io.dataplane.node.NodeCommandIT#backends")
    void demoCarriesTrafficExitsZeroAndLeavesNothingBehind(String backend) throws Exception {
        Hosts.assumeRoot();
        Tool demo = Tool.start(demo("demo", "--backend", backend, "--seconds", "2"));
        Set<Long> children = watchDescendants(demo, Duration.ofSeconds(60));
        assertEquals(0, demo.exitCode(), demo.output());
        String out = demo.stdout();
        assertContains(out, "demo: two " + backend + " nodes in two network namespaces");
        assertContains(out, "(pod A to pod B): 5 of 5 answered");
        boolean kernelForwards = backend.equals("host-gw"); // no TUN, no packet path of ours, nothing counted
        assertTrue(Pattern.compile("(?m)^ping \\S+ -> \\S+ \\(pod A to pod B\\): 5 of 5 answered, rtt min/avg/max [0-9.]+/[0-9.]+/[0-9.]+ ms$")
                .matcher(out).find(), out);
        assertTrue(Pattern.compile("(?m)^tcp: [0-9.]+ [kMG]bit/s received, \\d+ TCP retransmissions$").matcher(out).find(), out);
        if (kernelForwards) {
            assertContains(out, "   (host-gw: the kernel forwards between the pods");
            assertContains(out, "cleanup: closed node A: its routes to the peer removed");
        } else {
            assertTrue(Pattern.compile("(?m)^ +[12] s +A->B [1-9]").matcher(out).find(), "a live stats line with traffic:\n" + out);
            assertTrue(Pattern.compile("(?m)^cleanup: closed node A: TUN \\S+ removed, all packet buffers returned$").matcher(out).find(), out);
            assertTrue(Pattern.compile("(?m)^cleanup: closed node B: TUN \\S+ removed, all packet buffers returned$").matcher(out).find(), out);
        }
        assertFalse(out.contains("ERROR") || out.contains("STILL THERE"), out);
        assertEquals("", demo.stderr());
        assertNothingLeft(demo, children);
    }

    @Test
    void ctrlCDuringTheTrafficRemovesEverything() throws Exception {
        Hosts.assumeRoot();
        // env resets SIGINT to its default: a JVM started where SIGINT is ignored (a background job) would keep ignoring it.
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
        command.addAll(Cli.dataplane("demo", "--seconds", "60").command());
        ProcessBuilder b = demo();
        b.command(command);
        Tool demo = Tool.start(b);
        Set<Long> children = ConcurrentHashMap.newKeySet();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!demo.stdout().contains("A->B")) { // the traffic runs
            assertTrue(demo.isAlive(), demo.output());
            assertTrue(System.nanoTime() < deadline, "no traffic yet:\n" + demo.output());
            collect(demo, children);
            Thread.sleep(50);
        }
        collect(demo, children);
        long t0 = System.nanoTime();
        Hosts.run("kill", "-INT", String.valueOf(demo.pid()));
        assertTrue(demo.await(Duration.ofSeconds(10)), "still running 10 s after SIGINT:\n" + demo.output());
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "demo exited %.3f s after SIGINT%n", seconds);
        assertEquals(130, demo.exitCode(), demo.output());
        String out = demo.stdout();
        assertContains(out, "interrupted: cleaning up");
        assertContains(out, "cleanup: stopped the TCP stream");
        assertContains(out, "cleanup: deleted network namespace ");
        assertFalse(out.contains("ERROR") || out.contains("STILL THERE"), out);
        assertNothingLeft(demo, children);
    }

    @Test
    void withEtcdTheNodesTakeTheirSubnetsFromARealEtcdAndItsKeysArePrinted() throws Exception {
        Hosts.assumeRoot();
        io.dataplane.control.etcd.testing.EtcdProcess.assumeInstalled();
        Tool demo = Tool.start(Cli.dataplane("demo", "--etcd", "--seconds", "2"));
        Set<Long> children = watchDescendants(demo, Duration.ofSeconds(90));
        assertEquals(0, demo.exitCode(), demo.output());
        String out = demo.stdout();
        assertTrue(Pattern.compile("(?m)^etcd: http://192\\.0\\.2\\.3:2379 in dpdemo-e-\\S+ \\(pid \\d+\\); wrote /coreos.com/network/config$")
                .matcher(out).find(), out);
        Matcher keys = Pattern.compile("(?m)^  /coreos.com/network/subnets/(10\\.244\\.\\d+\\.0)-24  \\{\"PublicIP\":\"192\\.0\\.2\\.[12]\","
                + "\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":\\{\"VNI\":1,\"VtepMAC\":\"[0-9a-f:]{17}\"}}$").matcher(out);
        Set<String> subnets = new java.util.HashSet<>();
        while (keys.find()) subnets.add(keys.group(1));
        assertEquals(2, subnets.size(), "two leases in etcd, distinct:\n" + out);
        for (String s : subnets) assertTrue(out.contains(" " + s + "/24 at 192.0.2."), "a node runs " + s + ":\n" + out);
        assertContains(out, "(pod A to pod B): 5 of 5 answered");
        assertTrue(Pattern.compile("(?m)^cleanup: stopped etcd \\(pid \\d+\\)$").matcher(out).find(), out);
        Matcher e = Pattern.compile("(?m)^cleanup: deleted network namespace (dpdemo-e-\\S+)$").matcher(out);
        assertTrue(e.find(), out);
        assertFalse(NetNamespace.exists(e.group(1)), "etcd's namespace left behind");
        assertFalse(out.contains("ERROR") || out.contains("STILL THERE"), out);
        assertEquals("", demo.stderr());
        assertNothingLeft(demo, children);
    }

    @Test
    void unknownBackendIsRefusedInOneLine() throws Exception {
        Tool demo = Cli.run(Cli.dataplane("demo", "--backend", "vxlam"), Duration.ofSeconds(30));
        assertEquals(2, demo.exitCode(), demo.output());
        assertEquals(List.of("dataplane demo: Invalid value for option '--backend': unknown backend type: \"vxlam\" (one of udp, vxlan, ipip,"
                + " wireguard, host-gw) (see dataplane demo --help)"), demo.stderr().lines().toList());
        assertEquals("", demo.stdout());
    }

    /** Collects the demo's descendants until it ends (at most {@code timeout}). */
    private static Set<Long> watchDescendants(Tool demo, Duration timeout) throws InterruptedException {
        Set<Long> pids = ConcurrentHashMap.newKeySet();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!demo.await(Duration.ofMillis(50))) {
            collect(demo, pids);
            if (System.nanoTime() > deadline) {
                demo.close();
                throw new AssertionError("demo still running after " + timeout + ":\n" + demo.output());
            }
        }
        return pids;
    }

    private static void collect(Tool demo, Set<Long> pids) {
        ProcessHandle.of(demo.pid()).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    }

    /** No namespace of the demo's, no state directory, no process it started. */
    private static void assertNothingLeft(Tool demo, Set<Long> children) {
        String out = demo.stdout();
        Matcher ns = NAMESPACES.matcher(out);
        assertTrue(ns.find(), out);
        for (String name : List.of(ns.group(1), ns.group(2))) {
            assertTrue(name.startsWith("dpdemo-"), name);
            assertFalse(NetNamespace.exists(name), "namespace left behind: " + name);
        }
        Matcher state = STATE_DIR.matcher(out);
        assertTrue(state.find(), out);
        assertFalse(Files.exists(Path.of(state.group(1))), "state directory left behind: " + state.group(1));
        assertFalse(ProcessHandle.of(demo.pid()).map(ProcessHandle::isAlive).orElse(false), "demo JVM still there");
        for (long pid : children) {
            // The launcher's stderr filter reads until the JVM's stderr closes: it ends just after the JVM.
            ProcessHandle.of(pid).ifPresent(h -> {
                try {
                    h.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception stillThere) {
                    // Asserted below.
                }
            });
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " of the demo's still there");
        }
    }
}
