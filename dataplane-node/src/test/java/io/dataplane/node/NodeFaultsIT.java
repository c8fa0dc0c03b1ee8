package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static io.dataplane.node.Cli.awaitLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.tun.testing.Hosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults that need no store, on two {@code ./dataplane node} processes (root), each with the time
 * the node takes to stop or the traffic to come back in its output ({@code fault: ...} lines):
 *
 * <ul>
 *   <li>our TUN deleted by hand: the node stops at once with one line that names the device, and
 *       all its buffers back. It does not recreate the device: whoever deleted it meant something
 *       by it, and the node is supervised (systemd, a DaemonSet) so it is started again, which
 *       recreates the TUN with the kept VTEP MAC or key, as a restarted flanneld recreates
 *       flannel.1; the peers need no new lease. The test plays the supervisor and times it.
 *   <li>the underlay link down for 2 s and up again, and the public IP removed for 2 s and added
 *       back, while pings run: the node keeps running, logs nothing (the sends that fail meanwhile
 *       are counted), and pings pass again once the underlay is back;
 *   <li>the node killed with SIGKILL and started again over what it left: the kernel removes the
 *       TUN and its routes with the process; the state files are whole and unchanged; the new
 *       node publishes the same lease and carries traffic;
 *   <li>the underlay MTU lowered from 1500 to 1400 on both hosts under a TCP stream and pings: the
 *       node follows (TUN MTU 1400 minus the backend's overhead, one line), the stream and the
 *       pings go on, and no drop reason counts a packet but {@code send_failed} (a socket send
 *       buffer that was full); what was sent in the moment before the node followed goes out
 *       fragmented by the kernel;
 *   <li>the same under a node whose MTU is configured ({@code Backend.MTU} 1500), which keeps its
 *       TUN's MTU as flanneld keeps flannel.1's: every full-size datagram is now too long for the
 *       link, and the stream goes on all the same, its datagrams fragmented, as through the kernel's VXLAN;
 *   <li>the state directory read-only or full: one line naming the file and the reason, no TUN,
 *       no state file (whole or partial); a read-only directory that already holds the state is fine.
 * </ul>
 */
class NodeFaultsIT {
    private static final Duration START = Duration.ofSeconds(90); // a JVM start on a busy shared machine
    /**
     * The TCP stream of the MTU tests, and when the MTU changes under it: 3 s in, so that at least
     * 3 of its 7 one-second intervals start after the change (iperf3 stamps its start in whole
     * seconds, which may put the change up to a second later in its timeline) and the pings (every
     * 50 ms for as long as the stream) see both sides of it.
     */
    private static final String STREAM_SECONDS = "7";
    private static final long CHANGE_AFTER_MILLIS = 3000;

    @TempDir
    Path tmp;
    private Testbed bed;
    private final List<Path> mounts = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        bed = Testbed.hosts(2);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (bed != null) bed.close();
        } finally {
            for (Path m : mounts) Hosts.runAnyway("umount", m.toString());
        }
    }

    /** Two nodes from these directories, each with the other as its peer; returns them, A first. */
    private List<Tool> pair(Cli.ConfigDir dirA, Cli.ConfigDir dirB) throws Exception {
        Tool a = startNode(bed.host(1), dirA);
        Tool b = startNode(bed.host(2), dirB);
        String leaseA = awaitLine(a, "{\"Subnet\":", START);
        String leaseB = awaitLine(b, "{\"Subnet\":", START);
        dirA.peers(leaseB);
        dirB.peers(leaseA);
        awaitLine(a, "peers: added", Duration.ofSeconds(10));
        awaitLine(b, "peers: added", Duration.ofSeconds(10));
        assertTrue(millisUntilPing(Duration.ofSeconds(30)) >= 0, "no ping across the nodes");
        return List.of(a, b);
    }

    private Tool startNode(Testbed.Host host, Cli.ConfigDir dir) throws IOException {
        return bed.own(Tool.start(Cli.dataplaneIn(host, "node", "--config", dir.arg(), "--public-ip", host.addressText(),
                "--stats-interval", "0")));
    }

    /** Milliseconds until a ping from host 1's pod to host 2's is answered (one every 50 ms), or -1 after {@code max}. */
    private long millisUntilPing(Duration max) throws Exception {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < max.toNanos()) {
            Hosts.Result r = Hosts.runAnyway(bed.host(1).exec("ping", "-n", "-c", "1", "-W", "1", "-I", bed.host(1).podText(),
                    bed.host(2).podText()));
            if (r.exitCode() == 0) return (System.nanoTime() - t0) / 1_000_000;
            Thread.sleep(50);
        }
        return -1;
    }

    private static void report(String line) {
        System.out.println("fault: " + line);
    }

    @Test
    void ourTunDeletedByHandStopsTheNodeWithOneLineAndAStartAgainCarriesOn() throws Exception {
        Cli.ConfigDir dirA = Cli.ConfigDir.of(tmp, bed.host(1), "vxlan");
        Cli.ConfigDir dirB = Cli.ConfigDir.of(tmp, bed.host(2), "vxlan");
        List<Tool> nodes = pair(dirA, dirB);
        Tool a = nodes.get(0);
        String lease = awaitLine(a, "{\"Subnet\":", START);

        long t0 = System.nanoTime();
        Hosts.run("ip", "-n", bed.host(1).name(), "link", "del", "flannel.1");
        assertTrue(a.await(Cli.NODE_EXIT), "still running " + Cli.NODE_EXIT + " after its TUN was deleted:\n" + a.output());
        long stopMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(1, a.exitCode(), a.output());
        List<String> said = a.stderr().lines().filter(l -> l.startsWith("dataplane node: ")).toList();
        assertEquals(List.of("dataplane node: the packet path stopped: read(flannel.1) failed: errno=77 (EBADFD): the device was removed"),
                said, a.output());
        assertContains(a.stdout(), "stopped: TUN flannel.1 removed, all ");
        assertFalse(a.output().contains("NOT returned"), a.output());

        long t1 = System.nanoTime();
        Tool again = startNode(bed.host(1), dirA);
        assertEquals(lease, awaitLine(again, "{\"Subnet\":", START), "the same lease: the peers need no change");
        long backMs = millisUntilPing(Duration.ofSeconds(30));
        assertTrue(backMs >= 0, "no traffic after the restart:\n" + again.output());
        long total = (System.nanoTime() - t1) / 1_000_000;
        report(String.format(Locale.ROOT, "TUN deleted by hand (vxlan): node stopped %d ms after `ip link del`, one line; "
                + "started again, traffic back %d ms after the start (%d ms after the deletion)", stopMs, total,
                (System.nanoTime() - t0) / 1_000_000));
    }

    @Test
    void underlayLinkDownAndUpWhileTrafficRuns() throws Exception {
        Testbed.Host a = bed.host(1);
        underlayGoneFor2Seconds("underlay link down 2 s", new String[] {"ip", "-n", a.name(), "link", "set", a.underlay(), "down"},
                new String[] {"ip", "-n", a.name(), "link", "set", a.underlay(), "up"});
    }

    @Test
    void publicIpRemovedAndAddedBackWhileTrafficRuns() throws Exception {
        Testbed.Host a = bed.host(1);
        String address = a.addressText() + "/24";
        underlayGoneFor2Seconds("public IP removed 2 s", new String[] {"ip", "-n", a.name(), "addr", "del", address, "dev", a.underlay()},
                new String[] {"ip", "-n", a.name(), "addr", "add", address, "dev", a.underlay()});
    }

    /**
     * Two vxlan nodes, pings every 50 ms from host 1's pod to host 2's; host 1's underlay taken away
     * by {@code gone} for 2 s and given back by {@code back}: the nodes keep running and log nothing,
     * the traffic comes back.
     */
    private void underlayGoneFor2Seconds(String fault, String[] gone, String[] back) throws Exception {
        Cli.ConfigDir dirA = Cli.ConfigDir.of(tmp, bed.host(1), "vxlan");
        Cli.ConfigDir dirB = Cli.ConfigDir.of(tmp, bed.host(2), "vxlan");
        List<Tool> nodes = pair(dirA, dirB);
        Testbed.Host a = bed.host(1);
        Tool pings = bed.startTool(a, "ping", "-n", "-i", "0.05", "-c", "120", "-I", a.podText(), bed.host(2).podText());
        Thread.sleep(1000);
        Hosts.run(gone);
        Thread.sleep(2000);
        Hosts.run(back);
        long backMs = millisUntilPing(Duration.ofSeconds(30));
        assertTrue(backMs >= 0, "no traffic after the underlay came back");
        assertTrue(pings.await(Duration.ofSeconds(20)), pings.output());
        for (Tool n : nodes) {
            assertTrue(n.isAlive(), "a node stopped:\n" + n.output());
            n.terminate();
            assertTrue(n.await(Cli.NODE_EXIT), n.output());
            assertEquals("", n.stderr(), "nothing logged:\n" + n.output());
            assertContains(n.stdout(), "packet buffers returned");
        }
        String stopped = nodes.get(0).stdout().lines().filter(l -> l.startsWith("stopped:")).findFirst().orElseThrow();
        report(String.format(Locale.ROOT, "%s (vxlan): node kept running, nothing logged, traffic back %d ms after `%s`; pings"
                + " meanwhile: %s; node A %s", fault, backMs, String.join(" ", back),
                pings.stdout().lines().filter(l -> l.contains("packets transmitted")).findFirst().orElse("?"),
                stopped.substring(stopped.indexOf("egress"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"vxlan", "wireguard"})
    void killedWithSigkillAndStartedAgainOverWhatItLeft(String backend) throws Exception {
        Cli.ConfigDir dirA = Cli.ConfigDir.of(tmp, bed.host(1), backend);
        Cli.ConfigDir dirB = Cli.ConfigDir.of(tmp, bed.host(2), backend);
        Tool a = pair(dirA, dirB).get(0);
        String lease = awaitLine(a, "{\"Subnet\":", START);
        String stateFile = backend.equals("vxlan") ? "vtep-mac" : "wgkey";
        String state = Files.readString(dirA.dir().resolve(stateFile));

        long t0 = System.nanoTime();
        assertTrue(ProcessHandle.of(a.pid()).orElseThrow().destroyForcibly(), "SIGKILL");
        assertTrue(a.await(Duration.ofSeconds(10)));
        assertEquals(137, a.exitCode(), "killed by SIGKILL (128 + 9)");
        String tun = backend.equals("vxlan") ? "flannel.1" : "flannel-wg";
        // What it left: the kernel removes a TUN (and its routes) when its last descriptor closes.
        assertFalse(VxlanInteropTest.linkExists(bed.host(1), tun), "the TUN outlived its process");
        assertEquals(0, Hosts.json("ip", "-j", "-n", bed.host(1).name(), "route", "show", "10.244.0.0/16").size());
        assertEquals(state, Files.readString(dirA.dir().resolve(stateFile)), "the state file is whole and unchanged");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dirA.dir().resolve(stateFile))));

        long t1 = System.nanoTime();
        Tool again = startNode(bed.host(1), dirA);
        assertEquals(lease, awaitLine(again, "{\"Subnet\":", START), "the same lease: the peers need no change");
        long backMs = millisUntilPing(Duration.ofSeconds(30));
        assertTrue(backMs >= 0, "no traffic after the restart:\n" + again.output());
        report(String.format(Locale.ROOT, "SIGKILL (%s): TUN and routes gone with the process, %s kept; started again, traffic back"
                + " %d ms after the start (%d ms after the kill)", backend, stateFile, (System.nanoTime() - t1) / 1_000_000,
                (System.nanoTime() - t0) / 1_000_000));
        assertEquals("", again.stderr(), again.output());
    }

    @ParameterizedTest
    @ValueSource(strings = {"vxlan", "wireguard"})
    void underlayMtuLoweredUnderATcpStreamIsFollowed(String backend) throws Exception {
        List<Tool> nodes = pair(Cli.ConfigDir.of(tmp, bed.host(1), backend), Cli.ConfigDir.of(tmp, bed.host(2), backend));
        Testbed.Host a = bed.host(1);
        Testbed.Host b = bed.host(2);
        String tun = backend.equals("vxlan") ? "flannel.1" : "flannel-wg";
        int overhead = backend.equals("vxlan") ? 50 : 80;
        for (Testbed.Host h : List.of(a, b)) assertEquals(1500 - overhead, Testbed.linkMtu(h, tun), "TUN MTU at start");

        Tool server = bed.startTool(b, "iperf3", "-s", "-1", "--forceflush", "-B", b.podText());
        server.awaitStdout("Server listening", Duration.ofSeconds(10));
        Tool stream = bed.startTool(a, "iperf3", "-c", b.podText(), "-B", a.podText(), "-t", STREAM_SECONDS, "-i", "1", "-J",
                "--connect-timeout", "5000");
        Tool pings = bed.startTool(a, "ping", "-n", "-D", "-i", "0.05", "-c", "140", "-W", "1", "-I", a.podText(), b.podText());
        Thread.sleep(CHANGE_AFTER_MILLIS);
        long changedAt = System.currentTimeMillis();
        long t0 = System.nanoTime();
        for (Testbed.Host h : List.of(a, b)) Hosts.run("ip", "-n", h.name(), "link", "set", h.underlay(), "mtu", "1400");
        long[] followedMs = new long[2];
        for (int i = 0; i < 2; i++) {
            Testbed.Host h = bed.host(i + 1);
            while (Testbed.linkMtu(h, tun) != 1400 - overhead) {
                assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "the TUN of " + h.name() + " did not follow:\n"
                        + nodes.get(i).output());
                Thread.sleep(10);
            }
            followedMs[i] = (System.nanoTime() - t0) / 1_000_000;
        }
        for (Tool n : nodes) {
            awaitLine(n, "mtu: underlay veth0 mtu 1400, TUN " + tun + " mtu " + (1500 - overhead) + " -> " + (1400 - overhead)
                    + " (follows the underlay)", Duration.ofSeconds(10));
        }
        assertTrue(stream.await(Duration.ofSeconds(60)), stream.output());
        assertTrue(pings.await(Duration.ofSeconds(30)), pings.output());
        assertEquals(0, stream.exitCode(), stream.output());

        // The stream's one-second intervals: it carries on after the change and still runs at the
        // end (a busy machine may stall any one second, before the change as well as after).
        List<Double> before = new ArrayList<>();
        List<Double> after = new ArrayList<>();
        JsonNode result = intervals(stream, changedAt, before, after);
        assertTrue(after.size() >= 3, "intervals after the change: " + after + "\n" + stream.stdout());
        assertTrue(after.get(after.size() - 1) > 0 && after.get(after.size() - 2) > 0, "the stream stopped after the change: " + after);
        Traffic.Ping p = Traffic.parsePing(pings.stdout());
        assertTrue(p.received() >= p.transmitted() * 9 / 10, "pings lost beyond 10 %:\n" + pings.stdout());

        List<String> drops = stop(nodes);
        report(String.format(Locale.ROOT, "underlay MTU 1500 -> 1400 on both hosts under a TCP stream (%s): TUN MTU %d -> %d, followed"
                + " %d ms (A) and %d ms (B) after `ip link set veth0 mtu 1400`; TCP Mbit/s per second before %s, after %s (retransmits %d);"
                + " pings every 50 ms %d/%d answered; A %s, B %s", backend, 1500 - overhead, 1400 - overhead,
                followedMs[0], followedMs[1], rounded(before), rounded(after), result.get("end").get("sum_sent").get("retransmits").asLong(),
                p.received(), p.transmitted(), drops.get(0), drops.get(1)));
    }

    /**
     * The kernel's VXLAN as flanneld sets it up keeps its MTU when the underlay's is lowered, and a
     * TCP stream through it goes on: the outer datagrams too large for the link are fragmented, and
     * the sender is told the smaller path MTU. A node whose MTU is configured ({@code Backend.MTU})
     * does not follow the underlay either, so every full-size datagram it sends from then on is
     * too large for the link: the stream must go on all the same.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vxlan", "wireguard"})
    void underlayMtuLoweredBelowAConfiguredMtuKeepsATcpStream(String backend) throws Exception {
        Testbed.Host a = bed.host(1);
        Testbed.Host b = bed.host(2);
        Cli.ConfigDir dirA = Cli.ConfigDir.of(tmp, a, backend);
        Cli.ConfigDir dirB = Cli.ConfigDir.of(tmp, b, backend);
        for (Cli.ConfigDir d : List.of(dirA, dirB)) {
            d.write("net-conf.json", "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\", \"MTU\": 1500}}\n");
        }
        List<Tool> nodes = pair(dirA, dirB);
        String tun = backend.equals("vxlan") ? "flannel.1" : "flannel-wg";
        int overhead = backend.equals("vxlan") ? 50 : 80;

        Tool server = bed.startTool(b, "iperf3", "-s", "-1", "--forceflush", "-B", b.podText());
        server.awaitStdout("Server listening", Duration.ofSeconds(10));
        Tool stream = bed.startTool(a, "iperf3", "-c", b.podText(), "-B", a.podText(), "-t", STREAM_SECONDS, "-i", "1", "-J",
                "--connect-timeout", "5000");
        Thread.sleep(CHANGE_AFTER_MILLIS);
        long changedAt = System.currentTimeMillis();
        for (Testbed.Host h : List.of(a, b)) Hosts.run("ip", "-n", h.name(), "link", "set", h.underlay(), "mtu", "1400");
        assertTrue(stream.await(Duration.ofSeconds(60)), stream.output());
        assertEquals(0, stream.exitCode(), stream.output());
        for (Testbed.Host h : List.of(a, b)) assertEquals(1500 - overhead, Testbed.linkMtu(h, tun), "the TUN keeps the configured MTU");

        List<Double> before = new ArrayList<>();
        List<Double> after = new ArrayList<>();
        JsonNode result = intervals(stream, changedAt, before, after);
        assertTrue(after.size() >= 3, "intervals after the change: " + after + "\n" + stream.stdout());
        assertTrue(after.get(after.size() - 1) > 0 && after.get(after.size() - 2) > 0, "the stream stopped after the change: " + after);

        // As through the kernel's VXLAN: a ping with DF too long for the link is answered with the
        // MTU that fits, the sender's route keeps it, and a ping of that length gets through (one
        // reply of three is enough: a loaded machine may hold one beyond ping's wait).
        int fits = 1400 - overhead;
        String big = pingWithDf(a, b, 1400);
        assertTrue(big.contains("mtu = " + fits) || big.contains("mtu=" + fits), "no fragmentation needed with mtu " + fits + ":\n" + big);
        String route = Hosts.run("ip", "-n", a.name(), "route", "get", b.podText(), "from", a.podText());
        assertContains(route, "mtu " + fits);
        String fitting = pingWithDf(a, b, fits);
        assertTrue(fitting.contains((fits - 20) + " bytes from " + b.podText()), fitting);
        List<String> drops = stop(nodes);
        assertTrue(drops.get(0).contains("fragmentation_needed"), "A answered the 1400-byte ping: " + drops.get(0));
        report(String.format(Locale.ROOT, "underlay MTU 1500 -> 1400 under a TCP stream, TUN MTU configured (%s, Backend.MTU 1500: TUN %d"
                + " kept); TCP Mbit/s per second before %s, after %s (retransmits %d); A %s, B %s", backend, 1500 - overhead,
                rounded(before), rounded(after), result.get("end").get("sum_sent").get("retransmits").asLong(), drops.get(0), drops.get(1)));
    }

    /**
     * Three pings of {@code length} bytes with DF from {@code from}'s pod to {@code to}'s, 200 ms
     * apart, each waited for 2 s; their output, answered or not.
     */
    private static String pingWithDf(Testbed.Host from, Testbed.Host to, int length) throws Exception {
        return Hosts.runAnyway(from.exec("ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", Integer.toString(length - 28),
                "-I", from.podText(), to.podText())).output();
    }

    /**
     * Stops the nodes, each still running, logging nothing, with every buffer back and no drop but
     * {@code send_failed} (a full socket send buffer) and {@code fragmentation_needed} (a packet
     * with DF too long for the lowered MTU, answered with ICMP); returns each one's drops as it
     * printed them.
     */
    private static List<String> stop(List<Tool> nodes) throws InterruptedException {
        List<String> drops = new ArrayList<>();
        for (Tool n : nodes) {
            assertTrue(n.isAlive(), "a node stopped:\n" + n.output());
            n.terminate();
            assertTrue(n.await(Cli.NODE_EXIT), n.output());
            assertEquals("", n.stderr(), "nothing logged:\n" + n.output());
            String stopped = n.stdout().lines().filter(l -> l.startsWith("stopped:")).findFirst().orElseThrow();
            assertContains(stopped, "packet buffers returned");
            String d = stopped.endsWith("no drops") ? "no drops" : stopped.substring(stopped.indexOf("drops: "));
            assertTrue(d.equals("no drops") || d.matches("drops: (send_failed|fragmentation_needed) \\d+(, (send_failed|fragmentation_needed) \\d+)*"),
                    "a drop the change does not explain: " + stopped);
            drops.add(d);
        }
        return drops;
    }

    /**
     * The iperf3 stream's one-second intervals in Mbit/s, into {@code before} and {@code after} by
     * their start against {@code changedAt}; returns its whole JSON result.
     */
    private static JsonNode intervals(Tool stream, long changedAt, List<Double> before, List<Double> after) throws IOException {
        JsonNode result = new ObjectMapper().readTree(stream.stdout());
        long streamStart = result.get("start").get("timestamp").get("timesecs").asLong() * 1000;
        for (JsonNode interval : result.get("intervals")) {
            JsonNode sum = interval.get("sum");
            double mbit = sum.get("bits_per_second").asDouble() / 1e6;
            (streamStart + (long) (sum.get("start").asDouble() * 1000) < changedAt ? before : after).add(mbit);
        }
        return result;
    }

    private static String rounded(List<Double> mbits) {
        return mbits.stream().map(m -> String.format(Locale.ROOT, "%.0f", m)).toList().toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vxlan", "wireguard"})
    void aReadOnlyOrFullStateDirectoryIsOneClearLineAndNoStateFile(String backend) throws Exception {
        String stateFile = backend.equals("vxlan") ? "vtep-mac" : "wgkey";
        String tun = backend.equals("vxlan") ? "flannel.1" : "flannel-wg";
        Testbed.Host a = bed.host(1);

        // Read-only, no state yet.
        Cli.ConfigDir ro = tmpfsConfigDir("ro", a, backend);
        Hosts.run("mount", "-o", "remount,ro", ro.dir().getParent().toString());
        expectStateError(ro, a, stateFile, tun, "Read-only file system");

        // Full, no state yet.
        Cli.ConfigDir full = tmpfsConfigDir("full", a, backend);
        try (var out = Files.newOutputStream(full.dir().resolve("filler"))) {
            byte[] block = new byte[4096];
            while (true) out.write(block);
        } catch (IOException filled) {
            assertContains(filled.getMessage(), "No space left on device");
        }
        expectStateError(full, a, stateFile, tun, "No space left on device");

        // Read-only with the state already there: the node starts and stops as usual; only the
        // control socket, which lives in the state directory, cannot be made, and it says so.
        Cli.ConfigDir kept = tmpfsConfigDir("kept", a, backend);
        Tool first = startNode(a, kept);
        String lease = awaitLine(first, "{\"Subnet\":", START);
        first.terminate();
        assertTrue(first.await(Cli.NODE_EXIT), first.output());
        Hosts.run("mount", "-o", "remount,ro", kept.dir().getParent().toString());
        Tool second = startNode(a, kept);
        assertEquals(lease, awaitLine(second, "{\"Subnet\":", START), "started from the kept state:\n" + second.output());
        second.terminate();
        assertTrue(second.await(Cli.NODE_EXIT), second.output());
        assertEquals(List.of("dataplane node: no control socket, dataplane show cannot ask this node: cannot serve "
                + kept.dir().resolve("control.sock") + ": Read-only file system"), second.stderr().lines().toList(), second.output());
    }

    private void expectStateError(Cli.ConfigDir dir, Testbed.Host host, String stateFile, String tun, String reason) throws Exception {
        long t0 = System.nanoTime();
        Tool node = startNode(host, dir);
        assertTrue(node.await(START), "still running on a bad state directory:\n" + node.output());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        List<String> lines = node.stderr().lines().toList();
        assertEquals(1, lines.size(), "one line:\n" + node.output());
        assertContains(lines.get(0), dir.file(stateFile));
        assertTrue(lines.get(0).endsWith(reason), lines.get(0));
        assertTrue(node.exitCode() != 0, node.output());
        try (Stream<Path> files = Files.list(dir.dir())) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().contains(stateFile)), "a state file (or a part of one) was left");
        }
        assertFalse(VxlanInteropTest.linkExists(host, tun), "the TUN outlived the failed start");
        report(String.format(Locale.ROOT, "state directory %s (%s): exit %d after %d ms: %s", reason, stateFile, node.exitCode(), ms,
                lines.get(0)));
    }

    /** A config directory in a 256 KiB tmpfs of this test (mounted on its parent, unmounted after the test). */
    private Cli.ConfigDir tmpfsConfigDir(String name, Testbed.Host host, String backend) throws Exception {
        Path mount = Files.createDirectories(tmp.resolve("mnt-" + name));
        Hosts.run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "dataplane-faults-test", mount.toString());
        mounts.add(mount);
        return Cli.ConfigDir.of(mount, host, backend);
    }
}
