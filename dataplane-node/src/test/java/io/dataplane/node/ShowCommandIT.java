package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static io.dataplane.node.Cli.awaitLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.tun.testing.Hosts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ./dataplane show} against two {@code ./dataplane node} processes on one machine (every
 * backend), each in
 * its namespace with its own state directory, as a user runs them: without a node it says so in one
 * line; with them it tells the two apart and prints each one's node, peer, tables, traffic and drops
 * (text and {@code --json}); the tables match what the kernel's {@code ip route}, {@code ip neigh}
 * and {@code bridge fdb} print for the same entries on a real flannel.1; {@code /readyz} fails when
 * the TUN goes down; after SIGTERM the socket is gone, after SIGKILL it is named as left over.
 */
class ShowCommandIT {
    private static final Duration START = Duration.ofSeconds(30);
    private static final Duration SHOW = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

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

    @ParameterizedTest
    @MethodSource("io.dataplane.node.NodeCommandIT#backends")
    void showsEachOfTwoRunningNodesAndSaysWhenNoneRuns(String backend) throws Exception {
        Testbed.Host a = bed.host(1);
        Testbed.Host b = bed.host(2);
        Cli.ConfigDir dirA = Cli.ConfigDir.of(tmp, a, backend);
        Cli.ConfigDir dirB = Cli.ConfigDir.of(tmp, b, backend);
        boolean kernelForwards = backend.equals("host-gw");
        String tun = kernelForwards ? null
                : NodeConfig.defaultTunName(NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\"}}"));
        BackendType type = BackendType.of(backend);

        Tool none = Cli.run(Cli.dataplane("show", "--config", dirA.arg()), SHOW);
        assertEquals(1, none.exitCode(), none.output());
        assertEquals("", none.stdout());
        assertEquals(List.of("dataplane show: no node is running with the state directory " + dirA.arg() + " (no "
                + dirA.file("control.sock") + ")"), none.stderr().lines().toList());

        // Both started at once, each told of the other through its peers.json once it printed its lease.
        Tool nodeA = bed.own(Tool.start(Cli.dataplaneIn(a, "node", "--config", dirA.arg(), "--public-ip", "192.0.2.1", "--metrics-port",
                "9100", "--stats-interval", "0")));
        Tool nodeB = bed.own(Tool.start(Cli.dataplaneIn(b, "node", "--config", dirB.arg(), "--public-ip", "192.0.2.2", "--stats-interval", "0")));
        String leaseA = awaitLine(nodeA, "{\"Subnet\":", START);
        String leaseB = awaitLine(nodeB, "{\"Subnet\":", START);
        dirB.peers(leaseA);
        dirA.peers(leaseB);
        awaitLine(nodeA, "peers: added 10.244.2.0/24 at 192.0.2.2", Duration.ofSeconds(10));
        awaitLine(nodeB, "peers: added 10.244.1.0/24 at 192.0.2.1", Duration.ofSeconds(10));
        awaitLine(nodeA, "control: " + dirA.file("control.sock") + " (dataplane show --config " + dirA.arg() + ")", START);
        awaitLine(nodeB, "control: " + dirB.file("control.sock"), START);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dirA.dir().resolve("control.sock"))));
        Traffic.assertPings(a, b, 3); // wireguard: these wait for the first handshake, and count as egress all the same

        // Node A, as text.
        Tool showA = Cli.run(Cli.dataplane("show", "--config", dirA.arg()), SHOW);
        assertEquals(0, showA.exitCode(), showA.output());
        assertEquals("", showA.stderr());
        String text = showA.stdout();
        List<String> lines = text.lines().toList();
        JsonNode peerLease = JSON.readTree(leaseB);
        int port = BackendConf.defaults(type).udpPort();
        assertEquals("node: " + backend + ", subnet 10.244.1.0/24 of 10.244.0.0/16, public IP 192.0.2.1 on veth0 (mtu 1500), "
                + (kernelForwards ? "no TUN (host-gw: kernel routes)" : "TUN " + tun + " mtu " + (1500 - type.overhead()))
                + (port != 0 ? ", port " + port : ""), lines.getFirst());
        assertContains(text, "\n  control plane: files, " + dirA.file("peers.json") + "\n");
        assertContains(text, "\n  state: " + dirA.arg() + ", pid " + nodeA.pid() + ", up ");
        assertContains(text, "\npeers: 1\n");
        if (!kernelForwards) {
            assertContains(text, "\nip route:\n  10.244.0.0/16 dev " + tun + " scope link\n");
            assertTrue(lines.stream().anyMatch(l -> l.matches("traffic: egress (?:[3-9]|[1-9]\\d+) packets \\d+ bytes, ingress (?:[3-9]|[1-9]\\d+)"
                    + " packets \\d+ bytes; packet buffers \\d+ of \\d+ in use")), text);
        }
        assertTrue(lines.contains("drops: none") || lines.stream().anyMatch(l -> l.startsWith("drops: ")), text);
        if (type == BackendType.UDP) {
            assertContains(text, "\n  10.244.2.0/24  public IP 192.0.2.2  endpoint 192.0.2.2:8285\n    received ");
            assertContains(text, "\nip route:\n  10.244.0.0/16 dev flannel0 scope link\n  10.244.2.0/24 via 192.0.2.2 dev flannel0 onlink\ntraffic: ");
        } else if (type == BackendType.IPIP) {
            assertContains(text, "\n  10.244.2.0/24  public IP 192.0.2.2  endpoint 192.0.2.2\n    received ");
            assertContains(text, "\nip route:\n  10.244.0.0/16 dev flannel.ipip scope link\n  10.244.2.0/24 via 192.0.2.2 dev flannel.ipip onlink\n"
                    + "traffic: ");
        } else if (type == BackendType.HOST_GW) {
            // The route is the kernel's: show prints what ip route prints for it.
            String kernel = Hosts.run("ip", "-n", a.name(), "route", "show", "10.244.2.0/24").strip();
            assertEquals("10.244.2.0/24 via 192.0.2.2 dev veth0", kernel);
            assertContains(text, "\n  10.244.2.0/24  public IP 192.0.2.2  endpoint 192.0.2.2\nip route:\n  " + kernel + "\ntraffic: ");
        }
        if (type == BackendType.VXLAN) {
            String mac = peerLease.get("BackendData").get("VtepMAC").asText();
            assertContains(text, "\n  10.244.2.0/24  public IP 192.0.2.2  VTEP MAC " + mac + "  endpoint 192.0.2.2:8472\n    received ");
            List<String> ours = List.of("10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink", "10.244.2.0 dev flannel.1 lladdr " + mac + " PERMANENT",
                    mac + " dev flannel.1 dst 192.0.2.2 self permanent");
            for (String line : ours) assertContains(text, "\n  " + line + "\n");
            assertEquals(ours, asTheKernelPrintsThem(mac), "the same entries on a kernel flannel.1, as ip route, ip neigh and bridge fdb print them");
            assertContains(text, "\nip route:\n  10.244.0.0/16 dev flannel.1 scope link\n  10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n"
                    + "ip neigh:\n  10.244.2.0 dev flannel.1 lladdr " + mac + " PERMANENT\nbridge fdb:\n  " + mac
                    + " dev flannel.1 dst 192.0.2.2 self permanent\ntraffic: ");
        } else if (type == BackendType.WIREGUARD) {
            String key = peerLease.get("BackendData").get("PublicKey").asText();
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("  10.244.2.0/24  public IP 192.0.2.2  public key " + key
                    + "  endpoint 192.0.2.2:51820  latest handshake 20") && l.contains(" received, ") && l.endsWith(" sent")), text);
            assertFalse(text.contains("ip neigh:"), text);
        }

        // Node A, as JSON; node B told apart by its own state directory.
        Tool jsonA = Cli.run(Cli.dataplane("show", "--state-dir", dirA.arg(), "--json"), SHOW);
        assertEquals(0, jsonA.exitCode(), jsonA.output());
        JsonNode view = JSON.readTree(jsonA.stdout());
        assertEquals(backend, view.at("/node/backend").asText());
        assertEquals("10.244.1.0/24", view.at("/node/subnet").asText());
        assertEquals(kernelForwards ? null : tun, view.at("/node/tun").textValue());
        assertEquals(nodeA.pid(), view.at("/node/pid").asLong());
        assertEquals("files", view.at("/node/controlPlane/type").asText());
        if (type == BackendType.VXLAN) assertEquals(JSON.readTree(leaseA).at("/BackendData/VtepMAC").asText(), view.at("/node/vtepMac").asText());
        if (type == BackendType.WIREGUARD) assertEquals(JSON.readTree(leaseA).at("/BackendData/PublicKey").asText(), view.at("/node/publicKey").asText());
        assertEquals(1, view.get("peers").size());
        assertEquals("10.244.2.0/24", view.at("/peers/0/subnet").asText());
        assertEquals("192.0.2.2", view.at("/peers/0/publicIp").asText());
        assertTrue(kernelForwards || view.at("/stats/egress/packets").asLong() >= 3, view.toString());
        boolean countsPerPeer = type == BackendType.VXLAN || type == BackendType.UDP || type == BackendType.IPIP;
        if (countsPerPeer) {
            // The pings' requests went to the peer and its replies came from it; more pings move both.
            assertTrue(lines.stream().anyMatch(l -> l.matches("    received (?:[3-9]|[1-9]\\d+) packets \\([^)]+\\), 0 dropped, last 20\\S+Z; "
                    + "sent (?:[3-9]|[1-9]\\d+) packets \\([^)]+\\), 0 dropped, last 20\\S+Z")), text);
            JsonNode sent = view.at("/peers/0/sent");
            JsonNode received = view.at("/peers/0/received");
            assertTrue(sent.path("packets").asLong() >= 3 && received.path("packets").asLong() >= 3, view.toString());
            assertTrue(sent.path("bytes").asLong() >= 3 * 84 && received.path("bytes").asLong() >= 3 * 84, view.toString()); // 84-byte echoes
            assertTrue(sent.path("last").isTextual() && received.path("last").isTextual(), view.toString());
            Traffic.assertPings(a, b, 5);
            JsonNode later = JSON.readTree(Cli.run(Cli.dataplane("show", "--config", dirA.arg(), "--json"), SHOW).stdout());
            assertTrue(later.at("/peers/0/sent/packets").asLong() >= sent.path("packets").asLong() + 5, later.toString());
            assertTrue(later.at("/peers/0/received/packets").asLong() >= received.path("packets").asLong() + 5, later.toString());
            assertTrue(later.at("/peers/0/sent/bytes").asLong() >= sent.path("bytes").asLong() + 5 * 84, later.toString());
            assertTrue(later.at("/peers/0/received/bytes").asLong() >= received.path("bytes").asLong() + 5 * 84, later.toString());
            assertEquals(0, later.at("/peers/0/sent/drops").asLong() + later.at("/peers/0/received/drops").asLong(), later.toString());
            String metrics = NodeCommandIT.get(a, 9100, "/metrics");
            for (String series : List.of("dataplane_peer_packets_total{direction=\"sent\",subnet=\"10.244.2.0/24\"} ",
                    "dataplane_peer_packets_total{direction=\"received\",subnet=\"10.244.2.0/24\"} ",
                    "dataplane_peer_bytes_total{direction=\"sent\",subnet=\"10.244.2.0/24\"} ",
                    "dataplane_peer_drops_total{direction=\"received\",subnet=\"10.244.2.0/24\"} 0\n",
                    "dataplane_peer_last_packet_seconds{direction=\"received\",subnet=\"10.244.2.0/24\"} 1")) {
                assertContains(metrics, "\n" + series);
            }
        }
        if (backend.equals("wireguard")) {
            assertTrue(view.at("/peers/0/txBytes").asLong() > 0 && view.at("/peers/0/rxBytes").asLong() > 0, view.toString());
            assertTrue(view.at("/peers/0/latestHandshake").isTextual(), view.toString());
            String metrics = NodeCommandIT.get(a, 9100, "/metrics");
            assertContains(metrics, "\ndataplane_peer_latest_handshake_seconds{subnet=\"10.244.2.0/24\"} ");
            assertContains(metrics, "\ndataplane_peer_transfer_bytes_total{direction=\"sent\",subnet=\"10.244.2.0/24\"} ");
        }
        Tool showB = Cli.run(Cli.dataplane("show", "--config", dirB.arg(), "--json"), SHOW);
        JsonNode viewB = JSON.readTree(showB.stdout());
        assertEquals("10.244.2.0/24", viewB.at("/node/subnet").asText());
        assertEquals(nodeB.pid(), viewB.at("/node/pid").asLong());
        assertEquals("10.244.1.0/24", viewB.at("/peers/0/subnet").asText());

        // Ready while the TUN is up; not ready, saying why, once it is down.
        assertContains(NodeCommandIT.get(a, 9100, "/readyz"), "\n[+]device ok\n[+]packet-path ok\n[+]peers ok\nreadyz check passed\n");
        String device = kernelForwards ? a.underlay() : tun; // host-gw's device is the public IP's interface
        Hosts.run("ip", "-n", a.name(), "link", "set", device, "down");
        String notReady = NodeCommandIT.get(a, 9100, "/readyz");
        assertContains(notReady, "HTTP/1.1 503 ");
        assertContains(notReady, "\n[-]device failed: " + device + " is down\n[+]packet-path ok\n[+]peers ok\nreadyz check failed\n");
        assertContains(NodeCommandIT.get(a, 9100, "/healthz"), "HTTP/1.1 200 OK");

        // Stopped: the socket goes with the node. Killed: the socket stays and is named as left over.
        nodeA.terminate();
        assertTrue(nodeA.await(Cli.NODE_EXIT), nodeA.output());
        assertFalse(Files.exists(dirA.dir().resolve("control.sock")));
        Tool afterStop = Cli.run(Cli.dataplane("show", "--config", dirA.arg()), SHOW);
        assertEquals(1, afterStop.exitCode());
        assertEquals("dataplane show: no node is running with the state directory " + dirA.arg() + " (no " + dirA.file("control.sock") + ")\n",
                afterStop.stderr());
        Hosts.run("kill", "-KILL", String.valueOf(nodeB.pid()));
        assertTrue(nodeB.await(Duration.ofSeconds(10)), nodeB.output());
        Tool afterKill = Cli.run(Cli.dataplane("show", "--config", dirB.arg()), SHOW);
        assertEquals(1, afterKill.exitCode());
        assertEquals("dataplane show: no node is running with the state directory " + dirB.arg() + " (" + dirB.file("control.sock")
                + " is left from a node that stopped)\n", afterKill.stderr());
    }

    /**
     * The route, neighbor and FDB entry of peer 10.244.2.0/24 at 192.0.2.2 as flanneld writes them
     * into a kernel flannel.1 (in a namespace of its own), as {@code ip route}, {@code ip neigh} and
     * {@code bridge fdb} print them.
     */
    private static List<String> asTheKernelPrintsThem(String mac) throws Exception {
        try (Hosts hosts = new Hosts()) {
            String name = hosts.namespace("dpshowk").name();
            Hosts.run("ip", "-n", name, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "dstport", "8472", "nolearning");
            Hosts.run("ip", "-n", name, "addr", "add", "10.244.1.0/32", "dev", "flannel.1");
            Hosts.run("ip", "-n", name, "link", "set", "flannel.1", "up");
            Hosts.run("ip", "-n", name, "route", "add", "10.244.2.0/24", "via", "10.244.2.0", "dev", "flannel.1", "onlink");
            Hosts.run("ip", "-n", name, "neigh", "replace", "10.244.2.0", "lladdr", mac, "dev", "flannel.1", "nud", "permanent");
            Hosts.run("ip", "netns", "exec", name, "bridge", "fdb", "replace", mac, "dev", "flannel.1", "dst", "192.0.2.2", "self", "permanent");
            List<String> kernel = new ArrayList<>();
            kernel.add(Hosts.run("ip", "-n", name, "route", "show", "10.244.2.0/24").strip());
            kernel.add(Hosts.run("ip", "-n", name, "neigh", "show", "10.244.2.0").strip());
            kernel.add(Hosts.run("ip", "netns", "exec", name, "bridge", "fdb", "show").lines().filter(l -> l.startsWith(mac)).findFirst()
                    .orElse("(no fdb entry for " + mac + ")").strip());
            return kernel;
        }
    }
}
