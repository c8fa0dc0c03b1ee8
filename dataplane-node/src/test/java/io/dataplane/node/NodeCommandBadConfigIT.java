package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.testing.Hosts;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every bad configuration stops {@code ./dataplane node} with exactly one line on standard error,
 * {@code dataplane node: FILE: FIELD: what is wrong, with the value} (or the option for a command
 * line value), nothing on standard output, exit code 2, and nothing left in the namespace. Run
 * inside a namespace of the test's own, so that a case that wrongly got through could not touch
 * the host.
 */
class NodeCommandBadConfigIT {
    private static final Duration RUN = Duration.ofSeconds(30);
    private static Testbed bed;
    private static Testbed.Host host;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUpHosts() throws Exception {
        bed = Testbed.hosts(2);
        host = bed.host(1);
    }

    @AfterAll
    static void tearDownHosts() throws Exception {
        if (bed != null) bed.close();
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        for (JsonNode link : Hosts.json("ip", "-j", "-n", host.name(), "link", "show")) {
            assertTrue(!link.get("ifname").asText().startsWith("flannel"), "device left behind: " + link);
        }
    }

    /** Changes a good config directory into a bad one. */
    @FunctionalInterface
    interface Break {
        void apply(Cli.ConfigDir dir) throws Exception;
    }

    private static final String PEER = "{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"vxlan\","
            + "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"22:e8:35:88:1e:9a\"}}";

    private static Break netConf(String json) {
        return d -> d.write("net-conf.json", json);
    }

    /**
     * Each case: a name, how the files are broken, extra options, and the line expected on standard
     * error as a regular expression over the quoted text, {DIR} standing for the config directory.
     */
    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>(List.of(
                Arguments.of("missing net-conf.json", (Break) d -> Files.delete(d.dir().resolve("net-conf.json")), List.of(),
                        "{DIR}/net-conf.json: file not found"),
                Arguments.of("missing subnet.env", (Break) d -> Files.delete(d.dir().resolve("subnet.env")), List.of(),
                        "{DIR}/subnet.env: file not found"),
                Arguments.of("missing peers.json", (Break) d -> Files.delete(d.dir().resolve("peers.json")), List.of(),
                        "{DIR}/peers.json: file not found"),
                Arguments.of("bad JSON", netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}\n"), List.of(),
                        "{DIR}/net-conf.json: bad JSON at line 2, column 1: ~.+"),
                Arguments.of("unknown backend", netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlam\"}}"), List.of(),
                        "{DIR}/net-conf.json: Backend.Type: unknown backend type: \"vxlam\" (one of udp, vxlan, ipip, wireguard, host-gw)"),
                Arguments.of("prefix out of the Network", (Break) d -> d.write("subnet.env",
                        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.245.1.1/24\n"), List.of(),
                        "{DIR}/subnet.env: FLANNEL_SUBNET: subnet outside the network: 10.245.1.0/24 is not a subnet of 10.244.0.0/16"
                                + " (FLANNEL_NETWORK)"),
                Arguments.of("peer's prefix out of the Network", (Break) d -> d.peers(PEER.replace("10.244.2.0/24", "10.245.2.0/24")),
                        List.of(), "{DIR}/peers.json: [0].Subnet: subnet outside the Network: 10.245.2.0/24 is not in 10.244.0.0/16"),
                Arguments.of("port out of range", netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"Port\": 70000}}"),
                        List.of(), "{DIR}/net-conf.json: Backend.Port: Port out of range: port=70000 (1-65535)"),
                Arguments.of("VNI out of range", netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 16777216}}"),
                        List.of(), "{DIR}/net-conf.json: Backend.VNI: VNI out of range: vni=16777216 (max 16777215)"),
                Arguments.of("MAC malformed", (Break) d -> d.peers(PEER.replace("22:e8:35:88:1e:9a", "22:e8:35:88:1e")), List.of(),
                        "{DIR}/peers.json: [0].BackendData.VtepMAC: not a MAC address: \"22:e8:35:88:1e\" (expected six hex octets like"
                                + " 22:e8:35:88:1e:9a)"),
                Arguments.of("peer of another backend", (Break) d -> d.peers("{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\","
                        + "\"BackendType\":\"udp\"}"), List.of(),
                        "{DIR}/peers.json: [0].BackendType: backend differs from this node's: udp (net-conf.json says vxlan)"),
                Arguments.of("MTU too small", netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"MTU\": 100}}"),
                        List.of(), "{DIR}/net-conf.json: Backend.MTU: MTU out of range: mtu=100 (vxlan needs at least 118: 68 inside plus"
                                + " 50 of headers; max 65535)"),
                Arguments.of("public IP not on this host", (Break) d -> {}, List.of("--public-ip", "198.51.100.7"),
                        "command line: --public-ip: public IP is no address of this host: publicIp=198.51.100.7 (addresses here: ~.*"
                                + "~); peers send to it, so it must be local"),
                Arguments.of("public IP empty", (Break) d -> {}, List.of("--public-ip", "192.0.2.1", "--public-ip", ""),
                        "Invalid value for option '--public-ip': not an IPv4 address: \"\" (see dataplane node --help)"),
                Arguments.of("public IP malformed", (Break) d -> {}, List.of("--public-ip", "198.51.100"),
                        "Invalid value for option '--public-ip': not an IPv4 address: \"198.51.100\" (see dataplane node --help)"),
                Arguments.of("metrics port out of range", (Break) d -> {}, List.of("--metrics-port", "70000"),
                        "Invalid value for option '--metrics-port': port out of range: 70000 (1-65535) (see dataplane node --help)"),
                Arguments.of("busy poll out of range", (Break) d -> {}, List.of("--busy-poll", "1000001"),
                        "Invalid value for option '--busy-poll': microseconds out of range: 1000001 (0-1000000) (see dataplane node --help)"),
                Arguments.of("queues out of range", (Break) d -> {}, List.of("--queues", "0"),
                        "Invalid value for option '--queues': TUN queues out of range: 0 (1-64) (see dataplane node --help)"),
                Arguments.of("queues above the most", (Break) d -> {}, List.of("--queues", "65"),
                        "Invalid value for option '--queues': TUN queues out of range: 65 (1-64) (see dataplane node --help)"),
                Arguments.of("queues not a number", (Break) d -> {}, List.of("--queues", "two"),
                        "Invalid value for option '--queues': not a number: two (see dataplane node --help)"),
                Arguments.of("queues with a backend of one path", netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\"}}"),
                        List.of("--queues", "2"), "command line: --queues: the ipip backend runs one packet path only: queues=2 (more than 1"
                                + " with udp and vxlan only)"),
                Arguments.of("TUN name too long", (Break) d -> {}, List.of("--tun", "flannel.1234567890"),
                        "Invalid value for option '--tun': interface name too long: \"flannel.1234567890\" (18 bytes, max 15) (see dataplane"
                                + " node --help)"),
                Arguments.of("config not a directory", (Break) d -> {}, List.of("--config", "/nonexistent/dataplane"),
                        "command line: --config: not a directory: /nonexistent/dataplane")));
        for (BackendType type : BackendType.known()) {
            if (OverlayNode.supportedBackends().contains(type)) continue;
            cases.add(Arguments.of("backend not in this build: " + type, netConf("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \""
                    + type.flannelName() + "\"}}"), List.of(), "{DIR}/net-conf.json: Backend.Type: backend not supported by the node yet: "
                    + type.flannelName() + " ~.*"));
            break; // one is enough
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stopsWithOneLineNamingTheFileTheFieldAndTheValue(String name, Break change, List<String> options, String expected) throws Exception {
        Cli.ConfigDir dir = Cli.ConfigDir.of(tmp, host, "vxlan");
        change.apply(dir);
        List<String> args = new ArrayList<>(List.of("node", "--config", dir.arg(), "--stats-interval", "0"));
        if (!options.contains("--public-ip")) args.addAll(List.of("--public-ip", host.addressText()));
        args.addAll(options);
        Tool t = Cli.run(Cli.dataplaneIn(host, args.toArray(String[]::new)), RUN);
        assertOneLine(t, "dataplane node: " + expected.replace("{DIR}", dir.arg()));
    }

    @Test
    void withoutPublicIpAndWithoutDefaultRouteSaysToPassOne() throws Exception {
        Cli.ConfigDir dir = Cli.ConfigDir.of(tmp, host, "vxlan");
        Tool t = Cli.run(Cli.dataplaneIn(host, "node", "--config", dir.arg()), RUN);
        assertOneLine(t, "dataplane node: command line: --public-ip: not given, and no default route to take the public IP from; pass"
                + " --public-ip IP");
    }

    @Test
    void portInUseNamesThePortOfNetConf() throws Exception {
        Cli.ConfigDir dir = Cli.ConfigDir.of(tmp, host, "vxlan");
        try (DatagramChannel squatter = host.ns().call(() -> DatagramChannel.open()
                .bind(new InetSocketAddress(Ipv4Address.toInetAddress(host.address()), 8472)))) {
            Tool t = Cli.run(Cli.dataplaneIn(host, "node", "--config", dir.arg(), "--public-ip", host.addressText()), RUN);
            assertOneLine(t, "dataplane node: {DIR}/net-conf.json: Backend.Port: port 8472 is in use on 192.0.2.1 (~.*EADDRINUSE.*~)"
                    .replace("{DIR}", dir.arg()));
        }
    }

    /**
     * As user nobody, whatever the mode of {@code /dev/net/tun}: each run sees its own device node
     * of that mode (a tmpfs on {@code /dev/net} in a mount namespace of its own, so the machine's
     * node stays as it is). Mode 0600 refuses the open (EACCES), 0666 the TUNSETIFF (EPERM); both
     * say what to do.
     */
    @ParameterizedTest
    @ValueSource(strings = {"600", "666"})
    void notRootSaysSoInOneLineWhateverTheDeviceNodesMode(String mode) throws Exception {
        Prerequisites.programs("setpriv", "unshare", "mknod");
        Cli.ConfigDir dir = Cli.ConfigDir.of(tmp, host, "udp");
        // Readable by nobody, as a user's own config directory would be.
        for (Path p : List.of(tmp, dir.dir())) Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Path dist = Files.createDirectory(tmp.resolve("dist"));
        List<String> args = new ArrayList<>(List.of("ip", "netns", "exec", host.name(), "unshare", "--mount", "--propagation", "private",
                "sh", "-c", "mount -t tmpfs -o mode=755 dpnode-tun /dev/net && mknod -m \"$0\" /dev/net/tun c 10 200 && exec \"$@\"", mode,
                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Cli.readableCopy(dist).toString(),
                "node", "--config", dir.arg(), "--public-ip", host.addressText()));
        ProcessBuilder b = Cli.dataplaneIn(host);
        b.command(args).directory(dist.toFile());
        Tool t = Cli.run(b, RUN);
        assertEquals(1, t.exitCode(), t.output());
        String failure = mode.equals("600") ? "open(/dev/net/tun) failed: errno=13 (EACCES)" : "ioctl(TUNSETIFF, flannel0) failed: errno=1 (EPERM)";
        assertOneLineShape(t, "dataplane node: " + failure + ": needs root or CAP_NET_ADMIN", 1);
    }

    /** Exit code 2, nothing on standard output, and {@code expected} as the only line of standard error. */
    private static void assertOneLine(Tool t, String expected) {
        assertOneLineShape(t, expected, 2);
    }

    /**
     * {@code expected} is literal text except between {@code ~}: those parts are regular
     * expressions (an address list, Jackson's own words).
     */
    private static void assertOneLineShape(Tool t, String expected, int exitCode) {
        assertEquals(exitCode, t.exitCode(), t.output());
        assertEquals("", t.stdout(), t.output());
        List<String> lines = t.stderr().lines().toList();
        assertEquals(1, lines.size(), "one line on standard error:\n" + t.stderr());
        StringBuilder regex = new StringBuilder();
        String[] parts = expected.split("~", -1);
        for (int i = 0; i < parts.length; i++) regex.append(i % 2 == 0 ? Pattern.quote(parts[i]) : parts[i]);
        assertTrue(Pattern.matches(regex.toString(), lines.get(0)), "expected\n  " + expected + "\nbut was\n  " + lines.get(0));
    }
}
