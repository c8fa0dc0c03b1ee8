package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static io.dataplane.node.Cli.awaitLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.testing.Hosts;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two {@code ./dataplane node} processes as a user runs them ({@code ip netns exec NS ./dataplane
 * node --config DIR}), one per namespace, configured only through their files: node A starts with
 * no peers and learns node B from its peers.json while running; ping both ways and an iperf3 run
 * cross; the stats line and the metrics count the traffic; a broken peers.json is reported in one
 * line and changes nothing; a peer removed from the file stops being reachable; SIGTERM stops each
 * within a second or so and leaves no device, route or process (a JVM that records the launcher's
 * AOT configuration exits once it has written it).
 */
class NodeCommandIT {
    private static final Duration START = Duration.ofSeconds(30);
    private static final Pattern COUNTER = Pattern.compile("(?m)^dataplane_packets_total\\{direction=\"ingress\"} (\\d+)$");
    private static final Pattern CIPHER_BYTES =
            Pattern.compile("(?m)^dataplane_wireguard_cipher_bytes_total\\{cipher=\"(\\w+)\",direction=\"(\\w+)\"} (\\d+)$");
    private static final Pattern STATS_WITH_TRAFFIC = Pattern.compile("(?m)^stats: egress [1-9][0-9.]* pkt/s [0-9.]+ [kMG]?bit/s, ingress [1-9]");

    @TempDir
    Path tmp;
    private Testbed bed;

    @BeforeEach
    void setUp() throws Exception {
        bed = Testbed.hosts(2);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (bed != null) bed.close();
    }

    /** Every backend this build runs ({@link OverlayNode#supportedBackends}). */
    static Stream<String> backends() {
        return OverlayNode.supportedBackends().stream().map(BackendType::flannelName);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void twoNodesConfiguredByTheirFilesCarryTrafficFollowTheirPeersFilesAndStopCleanly(String backend) throws Exception {
        Testbed.Host a = bed.host(1);
        Testbed.Host b = bed.host(2);
        // host-gw has no TUN and no packet path of ours: the kernel forwards, the node counts nothing.
        boolean kernelForwards = backend.equals("host-gw");
        String tun = kernelForwards ? null
                : NodeConfig.defaultTunName(NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\"}}"));
        // A finds its public IP as flanneld does, from the default route's interface; B is told.
        Hosts.run("ip", "-n", a.name(), "route", "add", "default", "via", "192.0.2.254", "dev", a.underlay());
        Cli.ConfigDir dirA = Cli.ConfigDir.of(tmp, a, backend);
        Cli.ConfigDir dirB = Cli.ConfigDir.of(tmp, b, backend);

        // A moves one packet per system call, B (udp, vxlan) TCP super-packets and TUN batches through io_uring: the two
        // paths carry each other's traffic.
        Tool nodeA = bed.own(Tool.start(Cli.dataplaneIn(a, "node", "--config", dirA.arg(), "--stats-interval", "1", "--no-offload",
                "--no-io-uring")));
        String leaseA = awaitLine(nodeA, "{\"Subnet\":", START);
        JsonNode lease = new ObjectMapper().readTree(leaseA);
        assertEquals("10.244.1.0/24", lease.get("Subnet").asText());
        assertEquals("192.0.2.1", lease.get("PublicIP").asText(), "the default route's interface's address");
        assertEquals(backend, lease.get("BackendType").asText());
        awaitLine(nodeA, "peers: none yet in " + dirA.file("peers.json") + " (watching it)", START);
        assertContains(nodeA.stdout(), "node: " + backend + ", subnet 10.244.1.0/24 of 10.244.0.0/16, public IP 192.0.2.1 on veth0, "
                + (kernelForwards ? "no TUN" : "TUN " + tun));
        assertStateKept(dirA, backend, lease);

        dirB.peers(leaseA);
        Tool nodeB = bed.own(Tool.start(Cli.dataplaneIn(b, "node", "--config", dirB.arg(), "--public-ip", "192.0.2.2", "--metrics-port",
                "9100", "--busy-poll", "200"))); // B on the single-thread path: both packet paths carry the traffic below
        String leaseB = awaitLine(nodeB, "{\"Subnet\":", START);
        awaitLine(nodeB, "peers: added 10.244.1.0/24 at 192.0.2.1 (1 peer from " + dirB.file("peers.json") + ")", START);
        awaitLine(nodeB, "metrics: http://127.0.0.1:9100/metrics", START);
        if (!kernelForwards) assertContains(nodeB.stdout(), ", one packet-path thread, busy polling until 200 us without a packet");
        boolean offloads = backend.equals("udp") || backend.equals("vxlan") || backend.equals("ipip") || backend.equals("wireguard");
        assertEquals(offloads, nodeB.stdout().contains(", TCP offload, "), "offload said in B's start line: " + nodeB.stdout());
        assertFalse(nodeA.stdout().contains("TCP offload"), "--no-offload: " + nodeA.stdout());
        assertEquals(!kernelForwards, nodeB.stdout().contains(", TUN io_uring, "), "io_uring said in B's start line: " + nodeB.stdout());
        assertFalse(nodeA.stdout().contains("io_uring"), "--no-io-uring: " + nodeA.stdout());

        // A peer added to A's peers.json while A runs (written as editors do: a new file renamed over the old).
        dirA.peers(leaseB);
        awaitLine(nodeA, "peers: added 10.244.2.0/24 at 192.0.2.2 (1 peer from " + dirA.file("peers.json") + ")", Duration.ofSeconds(10));
        Traffic.assertPings(a, b, 5);
        Traffic.assertPings(b, a, 5);
        if (Prerequisites.available("iperf3")) {
            double bps = Traffic.iperf3(a, b, Traffic.TCP_SECONDS, false);
            assertTrue(bps > 1e6, "iperf3 across two ./dataplane nodes: " + bps + " bit/s");
        } else {
            Traffic.ping(a, b, 200, 0.005); // traffic enough for the stats line
        }

        if (!kernelForwards) awaitStats(nodeA);
        String metrics = get(b, 9100, "/metrics");
        assertContains(metrics, "HTTP/1.1 200 OK");
        assertContains(metrics.toLowerCase(java.util.Locale.ROOT), "content-type: text/plain; version=0.0.4; charset=utf-8");
        Matcher ingress = COUNTER.matcher(metrics);
        assertTrue(ingress.find(), metrics);
        assertTrue(kernelForwards ? ingress.group(1).equals("0") : Long.parseLong(ingress.group(1)) >= 10, metrics);
        assertContains(metrics, "\ndataplane_peers 1\n");
        assertContains(metrics, "\ndataplane_drops_total{reason=\"no_route\"} ");
        assertContains(metrics, "\ndataplane_node_info{backend=\"" + backend + "\",public_ip=\"192.0.2.2\",subnet=\"10.244.2.0/24\",tun=\""
                + (kernelForwards ? "" : tun)
                + "\"} 1\n");
        assertContains(get(b, 9100, "/"), "HTTP/1.1 404");
        assertContains(get(b, 9100, "/healthz"), "HTTP/1.1 200 OK");
        String ready = get(b, 9100, "/readyz");
        assertContains(ready, "HTTP/1.1 200 OK");
        assertContains(ready, "\n[+]device ok\n[+]packet-path ok\n[+]peers ok\nreadyz check passed\n");
        if (backend.equals("wireguard")) assertVectorCipherCarriesTcp(a, b);

        // A broken peers.json (a write cut short): one line, the peers in use stay.
        dirA.write("peers.json", "[{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\"");
        String problem = awaitStderr(nodeA, "dataplane node: " + dirA.file("peers.json") + ": bad JSON at line 1, column ");
        assertTrue(problem.endsWith("; keeping the 1 peer in use"), problem);
        assertTrue(nodeA.isAlive());
        Traffic.assertPings(a, b, 3);

        // The peer removed from the file: A's packets to it stop.
        dirA.peers();
        awaitLine(nodeA, "peers: removed 10.244.2.0/24 (0 peers from " + dirA.file("peers.json") + ")", Duration.ofSeconds(10));
        assertEquals(0, Traffic.pingUnanswered(a, b).received());

        for (Tool node : List.of(nodeA, nodeB)) {
            Testbed.Host host = node == nodeA ? a : b;
            long pid = node.pid();
            boolean records = recordsAotConfiguration(pid);
            long t0 = System.nanoTime();
            node.terminate();
            double stopped = awaitStopped(node, t0);
            assertTrue(node.await(records ? Cli.NODE_EXIT : Duration.ofSeconds(10)),
                    "still running " + (records ? Cli.NODE_EXIT : "10 s") + " after SIGTERM:\n" + node.output());
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(java.util.Locale.ROOT, "node %s (%s) stopped %.3f s, exited %.3f s after SIGTERM%s%n", host.name(), backend,
                    stopped, seconds, records ? " (its JVM wrote the launcher's AOT recording as it exited)" : "");
            assertTrue(stopped < 1.5, "said \"stopped:\" " + stopped + " s after SIGTERM");
            if (!records) assertTrue(seconds < 1.5, "exited " + seconds + " s after SIGTERM");
            assertEquals(143, node.exitCode(), "exit code after SIGTERM (128 + 15)\n" + node.output());
            assertContains(node.stdout(), kernelForwards ? "stopped: peer routes removed, " : "stopped: TUN " + tun + " removed, all ");
            assertFalse(node.output().contains("NOT returned"), node.output());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " still there");
            for (JsonNode link : Hosts.json("ip", "-j", "-n", host.name(), "link", "show")) {
                assertFalse(link.get("ifname").asText().startsWith("flannel"), "device left behind: " + link);
            }
            for (String prefix : List.of("10.244.0.0/16", "10.244.1.0/24", "10.244.2.0/24")) {
                assertEquals(0, Hosts.json("ip", "-j", "-n", host.name(), "route", "show", prefix).size(), "route left: " + prefix);
            }
        }
        assertEquals(List.of(problem), nodeA.stderr().lines().toList(), "node A's standard error");
        assertEquals("", nodeB.stderr(), "node B's standard error");
    }

    /** True if process {@code pid} is a JVM that records an AOT configuration ({@code -XX:AOTMode=record}). */
    private static boolean recordsAotConfiguration(long pid) throws java.io.IOException {
        byte[] cmdline = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
        return List.of(new String(cmdline, StandardCharsets.UTF_8).split("\0")).contains("-XX:AOTMode=record");
    }

    /** Seconds from {@code t0} (SIGTERM) until the node said it stopped: device, routes and buffers released. */
    private static double awaitStopped(Tool node, long t0) throws InterruptedException {
        long deadline = t0 + Duration.ofSeconds(10).toNanos();
        while (!node.stdout().contains("\nstopped: ")) {
            if (System.nanoTime() > deadline) throw new AssertionError("no \"stopped:\" line 10 s after SIGTERM:\n" + node.output());
            Thread.sleep(5);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** What must survive a restart is in the config directory: the VTEP MAC (vxlan), the private key (wireguard, mode 0600). */
    private static void assertStateKept(Cli.ConfigDir dir, String backend, JsonNode lease) throws Exception {
        switch (backend) {
            case "vxlan" -> assertEquals(lease.get("BackendData").get("VtepMAC").asText(),
                    Files.readString(dir.dir().resolve("vtep-mac")).strip());
            case "wireguard" -> assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.dir().resolve("wgkey"))));
            default -> {}
        }
    }

    /** Waits for a stats line of node A that shows packets both ways (stats every second). */
    private static void awaitStats(Tool node) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!STATS_WITH_TRAFFIC.matcher(node.stdout()).find()) {
            if (System.nanoTime() > deadline) throw new AssertionError("no stats line with traffic:\n" + node.stdout());
            Thread.sleep(50);
        }
    }

    private static String awaitStderr(Tool tool, String start) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            for (String line : tool.stderr().split("\n")) {
                if (line.startsWith(start)) return line;
            }
            if (System.nanoTime() > deadline) throw new AssertionError("no line starting \"" + start + "\" on stderr:\n" + tool.output());
            Thread.sleep(20);
        }
    }

    /** An HTTP/1.0 GET to 127.0.0.1:{@code port} inside {@code host}'s namespace (the socket is opened on its thread). */
    /**
     * B runs under the launcher's JVM options (C2 alone, a 2 MB young generation), where a vector
     * cipher whose code C2 never compiles with the intrinsics stays on the scalar one at several
     * times the CPU, silently. Its metrics say when the vector code is ready (some seconds after
     * start) and which code sealed and opened the bytes: once it is, nine in ten of a TCP stream's
     * bytes each way go through it (lone short messages take the scalar code by design). A vector
     * method the JIT throws away under load sends the cipher back to its warm-up for a while (the
     * scalar code stands in), so a stream gets three tries, each once the cipher is ready again.
     */
    private static void assertVectorCipherCarriesTcp(Testbed.Host a, Testbed.Host b) throws Exception {
        Prerequisites.program("iperf3"); // pings are lone short messages: the scalar code's by design
        List<String> tries = new ArrayList<>();
        for (int attempt = 0; attempt < 3; attempt++) {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            String metrics = get(b, 9100, "/metrics");
            while (!metrics.contains("\ndataplane_wireguard_vector_cipher_ready 1\n") && System.nanoTime() < deadline) {
                Thread.sleep(200);
                metrics = get(b, 9100, "/metrics");
            }
            assertContains(metrics, "\ndataplane_wireguard_vector_cipher_ready 1\n");
            Map<String, Long> before = cipherBytes(metrics);
            Traffic.iperf3(a, b, Traffic.TCP_SECONDS, false);
            Traffic.iperf3(a, b, Traffic.TCP_SECONDS, true);
            Map<String, Long> after = cipherBytes(get(b, 9100, "/metrics"));
            StringBuilder shortOf = new StringBuilder();
            for (String direction : List.of("sealed", "opened")) {
                long vector = after.get("vector " + direction) - before.get("vector " + direction);
                long all = 0;
                for (String cipher : List.of("vector", "segment", "jdk")) all += after.get(cipher + " " + direction) - before.get(cipher + " " + direction);
                if (all <= 100_000 || vector < 0.9 * all) shortOf.append(direction).append(": ").append(vector).append(" of ").append(all).append(" bytes; ");
            }
            if (shortOf.isEmpty()) return;
            tries.add(shortOf + "after: " + after);
        }
        fail("a TCP stream's bytes not nine in ten through the vector cipher in 3 tries: " + tries);
    }

    /** {@code dataplane_wireguard_cipher_bytes_total} by "cipher direction". */
    private static Map<String, Long> cipherBytes(String metrics) {
        Matcher m = CIPHER_BYTES.matcher(metrics);
        Map<String, Long> bytes = new java.util.TreeMap<>();
        while (m.find()) bytes.put(m.group(1) + " " + m.group(2), Long.parseLong(m.group(3)));
        assertEquals(6, bytes.size(), metrics);
        return bytes;
    }

    static String get(Testbed.Host host, int port, String path) throws Exception {
        return host.ns().call(() -> {
            try (Socket s = new Socket(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port)) {
                OutputStream out = s.getOutputStream();
                out.write(("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        });
    }
}
