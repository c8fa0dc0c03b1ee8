package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static io.dataplane.node.Cli.awaitLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dataplane.control.etcd.testing.EtcdProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A peer killed with SIGKILL and started again while the surviving node pings it every 50 ms
 * (root): two {@code ./dataplane node --etcd-endpoints} processes and a real etcd, each in a
 * namespace of its own on one underlay. The restarted peer comes back with a new VTEP MAC (vxlan,
 * its {@code vtep-mac} gone), the same WireGuard key ({@code wgkey} kept) or a new one
 * ({@code wgkey} gone); its lease reaches the survivor through etcd. The survivor's pings must be
 * answered again, and the test prints the time from the restarted peer's start to the first
 * answer ({@code fault: ...} line). The survivor keeps running and logs nothing.
 */
class PeerRestartIT {
    private static final Duration START = Duration.ofSeconds(120); // a JVM start on a busy shared machine
    private static final Duration RECOVERY = Duration.ofSeconds(60);
    private static final String PREFIX = "/dprestart/network";

    @TempDir
    Path tmp;
    private Testbed bed;
    private EtcdProcess etcd;

    @BeforeEach
    void setUp() throws Exception {
        EtcdProcess.assumeInstalled();
        bed = Testbed.hosts(3);
        etcd = EtcdProcess.inNamespace(bed.host(3).name(), bed.host(3).addressText());
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (bed != null) bed.close(); // the nodes and pings first: the nodes talk to etcd
        } finally {
            if (etcd != null) etcd.close();
        }
    }

    /**
     * Node {@code i} against the test's etcd, its state in {@code n<i>/state}; its subnet.env from
     * an earlier run names the testbed's subnet 10.244.i.0/24, so it takes that one (as flanneld
     * takes subnet.env's subnet again) and the testbed's pod address 10.244.i.1 is in it.
     */
    /**
     * Vert.x's file caches in the nodes' {@code java.io.tmpdir}: a directory of this test's own
     * ({@code JAVA_TOOL_OPTIONS}, see {@link #node}), so that no other process's cache in /tmp counts.
     */
    private Set<Path> vertxCaches() throws IOException {
        try (Stream<Path> dirs = Files.list(jvmTmp())) {
            return dirs.filter(p -> p.getFileName().toString().startsWith("vertx-cache-")).collect(Collectors.toSet());
        }
    }

    /** {@code ./dataplane show} of node {@code i}, for a failure's message. */
    private String show(int i) throws Exception {
        Tool show = Cli.run(Cli.dataplane("show", "--state-dir", tmp.resolve("n" + i).resolve("state").toString()), Duration.ofSeconds(30));
        return "$ dataplane show (node " + i + ")\n" + show.output();
    }

    private Tool node(int i) throws Exception {
        Testbed.Host h = bed.host(i);
        Path dir = tmp.resolve("n" + i);
        Path env = dir.resolve("subnet.env");
        if (!Files.exists(env)) {
            Files.createDirectories(dir);
            Files.writeString(env, "FLANNEL_NETWORK=" + Testbed.NETWORK + "\nFLANNEL_SUBNET=" + h.podText() + "/24\nFLANNEL_MTU=1450\n"
                    + "FLANNEL_IPMASQ=false\n");
        }
        ProcessBuilder node = Cli.dataplaneIn(h, "node", "--etcd-endpoints", etcd.endpoint().toString(), "--etcd-prefix", PREFIX,
                "--subnet-file", env.toString(), "--state-dir", dir.resolve("state").toString(), "--public-ip", h.addressText(),
                "--stats-interval", "0");
        node.environment().put("JAVA_TOOL_OPTIONS", toolOptions());
        return bed.own(Tool.start(node));
    }

    /** The nodes' JVM options from the environment, which the JVM echoes on stderr as it starts. */
    private String toolOptions() throws IOException {
        return "-Djava.io.tmpdir=" + jvmTmp();
    }

    /** The nodes' {@code java.io.tmpdir}, under the test's temporary directory. */
    private Path jvmTmp() throws IOException {
        return Files.createDirectories(tmp.resolve("jvm-tmp"));
    }

    @ParameterizedTest(name = "{0}, {1} state file {2}")
    @CsvSource({"vxlan, vtep-mac, removed", "wireguard, wgkey, kept", "wireguard, wgkey, removed"})
    void aPeerKilledAndStartedAgainIsReachedAgainThroughItsNewLease(String backend, String stateFile, String state) throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"" + Testbed.NETWORK + "\", \"Backend\": {\"Type\": \"" + backend + "\"}}");
        Testbed.Host a = bed.host(1);
        Testbed.Host b = bed.host(2);
        Tool survivor = node(1);
        Tool peer = node(2);
        awaitLine(survivor, "peers: added " + b.subnet() + " at " + b.addressText(), START);
        awaitLine(peer, "peers: added " + a.subnet() + " at " + a.addressText(), START);
        // What the SIGKILL below would leave behind: Vert.x's file cache, made at start, removed by a shutdown hook.
        List<Path> cachesMade = vertxCaches().stream().sorted().toList();
        assertEquals(List.of(), cachesMade, "directories the etcd client's Vert.x made in the nodes' java.io.tmpdir while they started");
        String key = PREFIX + "/subnets/10.244.2.0-24";
        String leaseBefore = etcd.etcdctl("get", key, "--print-value-only").strip();
        Path stateOfPeer = tmp.resolve("n2/state/" + stateFile);
        String identityBefore = Files.readString(stateOfPeer);

        Tool pings = bed.startTool(a, "ping", "-n", "-D", "-i", "0.05", "-W", "1", "-I", a.podText(), b.podText());
        assertTrue(Traffic.firstReplyAfter(pings, 0, Duration.ofSeconds(10)) > 0, "no ping across the nodes before the fault:\n" + pings.output());

        long killedAt = System.currentTimeMillis();
        assertTrue(ProcessHandle.of(peer.pid()).orElseThrow().destroyForcibly(), "SIGKILL");
        assertTrue(peer.await(Duration.ofSeconds(10)));
        assertEquals(137, peer.exitCode(), "killed by SIGKILL (128 + 9)");
        if (state.equals("removed")) Files.delete(stateOfPeer);
        // Down for a second, as a supervisor restarts it; pings go unanswered meanwhile.
        Thread.sleep(1000);

        long startedAt = System.currentTimeMillis();
        Tool again = node(2);
        awaitLine(again, "lease: ", START);
        long leaseAt = System.currentTimeMillis();
        String leaseAfter = etcd.etcdctl("get", key, "--print-value-only").strip();
        String identityAfter = Files.readString(stateOfPeer);
        String updated = "";
        if (state.equals("removed")) {
            assertNotEquals(identityBefore, identityAfter, "a new " + stateFile);
            assertNotEquals(leaseBefore, leaseAfter, "the new lease in etcd");
            awaitLine(survivor, "peers: updated " + b.subnet() + " at " + b.addressText(), RECOVERY);
            updated = String.format(Locale.ROOT, ", the survivor's `peers: updated` line seen %d ms after the start",
                    System.currentTimeMillis() - startedAt);
        } else {
            assertEquals(identityBefore, identityAfter, "the kept " + stateFile);
            assertEquals(leaseBefore, leaseAfter, "the same lease in etcd");
        }
        long answeredAt = Traffic.firstReplyAfter(pings, startedAt, RECOVERY);
        if (answeredAt <= 0) {
            fail("the survivor's pings are not answered " + RECOVERY.toSeconds() + " s after the peer's start:\n" + survivor.output() + "\n"
                    + again.output() + "\n" + tail(pings.stdout()) + "\n" + show(1) + "\n" + show(2));
        }
        // And they stay answered: of the 60 sent in the next 3 s, a third at least on a busy machine
        // (counted as they come: the test goes on once the twentieth is answered).
        int answeredAfter = Traffic.replyTimes(pings.stdout()).size();
        long staysUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        int more;
        while ((more = Traffic.replyTimes(pings.stdout()).size() - answeredAfter) < 20 && System.nanoTime() < staysUntil) Thread.sleep(20);
        assertTrue(more >= 20, "pings answered in the 3 s after the recovery: " + more + "\n" + tail(pings.stdout()));
        assertTrue(survivor.isAlive(), survivor.output());
        assertEquals("Picked up JAVA_TOOL_OPTIONS: " + toolOptions() + "\n", survivor.stderr(),
                "the survivor logs nothing (but the JVM's echo of the test's options):\n" + survivor.output());

        String what = backend + (backend.equals("vxlan") ? ", new VTEP MAC" : state.equals("kept") ? ", same key" : ", new key");
        System.out.println(String.format(Locale.ROOT, "fault: peer SIGKILLed, down 1 s, started again (%s, %s %s): the survivor's"
                + " pings (every 50 ms) answered again %d ms after the peer's start (%d ms after the kill); the peer forwarded (its"
                + " `lease:` line) %d ms after its start%s: answered %d ms after the peer forwarded", what, stateFile, state,
                answeredAt - startedAt, answeredAt - killedAt, leaseAt - startedAt, updated, answeredAt - leaseAt));
        assertContains(leaseAfter, "\"PublicIP\":\"" + b.addressText() + "\"");
    }

    private static String tail(String text) {
        return text.length() <= 3000 ? text : "..." + text.substring(text.length() - 3000);
    }
}
