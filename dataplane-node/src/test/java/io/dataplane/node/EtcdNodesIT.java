package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static io.dataplane.node.Cli.awaitLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.control.etcd.testing.EtcdProcess;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.testing.Hosts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code ./dataplane node --etcd-endpoints} processes, one per namespace, and a real etcd in
 * a fourth namespace on the same underlay: the nodes take distinct subnets from etcd, write them as
 * flanneld does (keys, values, 24 h TTL read back with etcdctl; subnet.env), learn each other from
 * etcd and carry pod traffic; then the store is changed behind their backs and taken away.
 */
class EtcdNodesIT {
    private static final Duration START = Duration.ofSeconds(40);
    private static final Duration CHANGE = Duration.ofSeconds(15);
    private static final String PREFIX = "/dpit/network";
    private static final Pattern LEASE = Pattern.compile("^etcd: lease (\\S+) at ");

    @TempDir
    Path tmp;
    private Testbed bed;
    private EtcdProcess etcd;

    @BeforeEach
    void setUp() throws Exception {
        EtcdProcess.assumeInstalled();
        bed = Testbed.hosts(4);
        etcd = EtcdProcess.inNamespace(bed.host(4).name(), bed.host(4).addressText());
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (bed != null) bed.close(); // the nodes first: they talk to etcd
        } finally {
            if (etcd != null) etcd.close();
        }
    }

    private Tool node(int i) throws Exception {
        Testbed.Host h = bed.host(i);
        Path dir = tmp.resolve("n" + i);
        return bed.own(Tool.start(Cli.dataplaneIn(h, "node", "--etcd-endpoints", etcd.endpoint().toString(), "--etcd-prefix", PREFIX,
                "--subnet-file", dir.resolve("subnet.env").toString(), "--state-dir", dir.resolve("state").toString(),
                "--public-ip", h.addressText(), "--stats-interval", "0")));
    }

    private static Ipv4Prefix leaseOf(Tool node) throws InterruptedException {
        Matcher m = LEASE.matcher(awaitLine(node, "etcd: lease ", START));
        assertTrue(m.find());
        return Ipv4Prefix.parse(m.group(1));
    }

    private String key(Ipv4Prefix subnet) {
        return PREFIX + "/subnets/" + Ipv4Address.toString(subnet.address()) + "-" + subnet.length();
    }

    @Test
    void threeNodesFormANetworkThroughEtcdAndRideOutItsChangesAndAbsence() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");
        Tool[] nodes = new Tool[4];
        Ipv4Prefix[] subnets = new Ipv4Prefix[4];
        Set<Ipv4Prefix> distinct = new HashSet<>();
        for (int i = 1; i <= 3; i++) nodes[i] = node(i); // started at once, as on hosts that boot together
        for (int i = 1; i <= 3; i++) {
            subnets[i] = leaseOf(nodes[i]);
            awaitLine(nodes[i], "node: vxlan, subnet " + subnets[i] + " of 10.246.0.0/16", START);
            assertTrue(distinct.add(subnets[i]), "distinct subnets: " + distinct + " + " + subnets[i]);
        }
        for (int i = 1; i <= 3; i++) {
            Testbed.Host h = bed.host(i);
            Path dir = tmp.resolve("n" + i);
            // The key and value as flanneld writes them, on a lease of 24 h.
            String mac = Files.readString(dir.resolve("state/vtep-mac")).strip();
            assertEquals("{\"PublicIP\":\"" + h.addressText() + "\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
                    + "\"VtepMAC\":\"" + mac + "\"}}", etcd.etcdctl("get", key(subnets[i]), "--print-value-only").strip());
            assertTtlAboutADay(key(subnets[i]));
            // subnet.env as flanneld writes it, mode 0644.
            Path env = dir.resolve("subnet.env");
            assertEquals("FLANNEL_NETWORK=10.246.0.0/16\nFLANNEL_SUBNET=" + Ipv4Address.toString(subnets[i].address() + 1) + "/24\n"
                    + "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n", Files.readString(env));
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(env)));
            awaitPeers(nodes[i], 2);
            // The pod's address: the subnet's first, as the CNI bridge would hold it.
            Hosts.run("ip", "-n", h.name(), "addr", "add", Ipv4Address.toString(subnets[i].address() + 1) + "/32", "dev", "lo");
        }
        for (int i = 1; i <= 3; i++) {
            for (int j = 1; j <= 3; j++) if (i != j) assertPing(i, subnets, j);
        }

        // Our own key deleted by hand: taken again, and said so.
        etcd.etcdctl("del", key(subnets[2]));
        awaitLine(nodes[2], "etcd: our lease of " + subnets[2] + " was deleted from etcd; taken again", CHANGE);
        assertContains(etcd.etcdctl("get", key(subnets[2]), "--print-value-only"), "\"PublicIP\":\"192.0.2.2\"");

        // A foreign key and a bad value harm nothing.
        etcd.etcdctl("put", PREFIX + "/subnets/garbage", "hello");
        awaitLine(nodes[1], "etcd: skipping " + PREFIX + "/subnets/garbage", CHANGE);
        assertPing(1, subnets, 2);

        // Node 3 stopped (SIGTERM): its lease stays. Deleted by hand: the peers drop it; put back: they take it again.
        nodes[3].terminate();
        assertTrue(nodes[3].await(Cli.NODE_EXIT), nodes[3].output());
        String value3 = etcd.etcdctl("get", key(subnets[3]), "--print-value-only").strip();
        assertContains(value3, "\"PublicIP\":\"192.0.2.3\"");
        etcd.etcdctl("del", key(subnets[3]));
        awaitLine(nodes[1], "peers: removed " + subnets[3] + " (1 from etcd)", CHANGE);
        etcd.etcdctl("put", key(subnets[3]), value3);
        awaitLine(nodes[1], "peers: added " + subnets[3] + " at 192.0.2.3 (2 from etcd)", CHANGE);
        // Restarted, it takes the same subnet back.
        nodes[3] = node(3);
        assertEquals(subnets[3], leaseOf(nodes[3]), "restart keeps the subnet");
        awaitPeers(nodes[3], 2);
        assertPing(3, subnets, 1);

        // etcd stopped under traffic: forwarding goes on, one line each way, and a lease added afterwards arrives.
        Tool ping = bed.startTool(bed.host(1), "ping", "-c", "60", "-i", "0.1", "-W", "1", "-I", Ipv4Address.toString(subnets[1].address() + 1),
                Ipv4Address.toString(subnets[2].address() + 1));
        Thread.sleep(500);
        etcd.stop();
        // Each node's probe runs on its own clock: every one has noticed before etcd comes back.
        for (int i = 1; i <= 3; i++) awaitLine(nodes[i], "etcd: lost etcd at ", CHANGE);
        Thread.sleep(2000);
        etcd.start();
        awaitLine(nodes[1], "etcd: etcd is back", CHANGE);
        assertTrue(ping.await(Duration.ofSeconds(20)), ping.output());
        Traffic.Ping p = Traffic.parsePing(ping.stdout());
        // Forwarding never depended on etcd: at most a stray ping lost to a loaded machine, not the seconds etcd was away.
        assertTrue(p.received() >= 57, "forwarding went on while etcd was away: " + ping.stdout());
        for (int i = 1; i <= 3; i++) {
            assertTrue(nodes[i].isAlive(), nodes[i].output());
            assertEquals(1, count(nodes[i].stdout(), "etcd: lost etcd at "), nodes[i].stdout());
        }
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.200.0-24",
                "{\"PublicIP\":\"192.0.2.77\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"0a:58:00:00:00:77\"}}");
        for (int i = 1; i <= 3; i++) awaitLine(nodes[i], "peers: added 10.246.200.0/24 at 192.0.2.77", CHANGE);
        assertPing(2, subnets, 3);
    }

    @Test
    void twoNodesStartedAtOnceInANetworkWithTwoFreeSubnetsEndDistinct() throws Exception {
        // A /28 of /30s: the first is never handed out, one is another host's: two left for two nodes.
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/28\", \"Backend\": {\"Type\": \"vxlan\"}}");
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.0.4-30",
                "{\"PublicIP\":\"192.0.2.99\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"0a:58:00:00:00:99\"}}");
        Tool one = node(1);
        // The second node is configured through flanneld's environment variables only.
        Testbed.Host h2 = bed.host(2);
        ProcessBuilder b = Cli.dataplaneIn(h2, "node", "--stats-interval", "0");
        b.environment().put("FLANNELD_ETCD_ENDPOINTS", etcd.endpoint().toString());
        b.environment().put("FLANNELD_ETCD_PREFIX", PREFIX);
        b.environment().put("FLANNELD_SUBNET_FILE", tmp.resolve("n2/subnet.env").toString());
        b.environment().put("FLANNELD_STATE_DIR", tmp.resolve("n2/state").toString());
        b.environment().put("FLANNELD_PUBLIC_IP", h2.addressText());
        Tool two = bed.own(Tool.start(b));
        Set<Ipv4Prefix> got = Set.of(leaseOf(one), leaseOf(two));
        assertEquals(Set.of(Ipv4Prefix.parse("10.246.0.8/30"), Ipv4Prefix.parse("10.246.0.12/30")), got, one.output() + two.output());
        assertContains(awaitLine(two, "node: vxlan, subnet ", START), "public IP 192.0.2.2 on veth0");
        assertTrue(Files.exists(tmp.resolve("n2/subnet.env")) && Files.exists(tmp.resolve("n2/state/vtep-mac")), "env-configured files");
    }

    @Test
    void configAndModeErrorsAreOneLine() throws Exception {
        Tool both = Cli.run(Cli.dataplaneIn(bed.host(1), "node", "--config", tmp.toString(), "--etcd-endpoints", etcd.endpoint().toString()),
                Duration.ofSeconds(30));
        assertEquals(2, both.exitCode(), both.output());
        assertContains(both.stderr(), "--config: cannot be combined with --etcd-endpoints");
        Tool none = Cli.run(Cli.dataplaneIn(bed.host(1), "node"), Duration.ofSeconds(30));
        assertEquals(2, none.exitCode(), none.output());
        assertContains(none.stderr(), "--config: missing: give --config DIR (flannel's files) or --etcd-endpoints URL");

        // No config yet: one line naming the etcdctl command; a bad one: one line naming the key, field and value.
        Tool n = node(1);
        awaitLine(n, "etcd: no network config at " + PREFIX + "/config yet (waiting); write one with: etcdctl put " + PREFIX + "/config", START);
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 16777216}}");
        awaitLine(n, "etcd: " + PREFIX + "/config: Backend.VNI: VNI out of range: vni=16777216", CHANGE);
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");
        assertNotEquals(null, leaseOf(n));
        assertEquals(1, count(n.stdout(), "etcd: no network config"), n.stdout());
    }

    private void assertPing(int from, Ipv4Prefix[] subnets, int to) throws Exception {
        Tool t = Tool.run(Duration.ofSeconds(30), bed.host(from).exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I",
                Ipv4Address.toString(subnets[from].address() + 1), Ipv4Address.toString(subnets[to].address() + 1)));
        Traffic.Ping p = Traffic.parsePing(t.stdout());
        assertTrue(p.received() >= 2, "pod " + from + " -> pod " + to + ": " + t.output());
    }

    private static void awaitPeers(Tool node, int n) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (!node.stdout().contains("(" + n + " from etcd)")) {
            if (System.nanoTime() > deadline) throw new AssertionError("not " + n + " peers:\n" + node.output());
            Thread.sleep(50);
        }
    }

    private void assertTtlAboutADay(String key) throws Exception {
        long[] ttl = etcd.leaseTtl(key);
        assertEquals(86400, ttl[0], "granted TTL of " + key);
        assertTrue(ttl[1] > 86000, "remaining TTL of " + key + ": " + ttl[1]);
    }

    private static long count(String text, String start) {
        return List.of(text.split("\n")).stream().filter(l -> l.startsWith(start)).count();
    }
}
