package io.dataplane.node;

import static io.dataplane.node.Cli.awaitLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.control.etcd.testing.EtcdProcess;
import io.dataplane.core.config.SubnetEnv;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.Leftovers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pods attached by Debian's CNI plugins (bridge with host-local) from the subnet.env our nodes
 * write, with the delegate config flannel's CNI plugin derives from it: pod -> veth -> cni0 ->
 * our TUN -> underlay. Two of our nodes take their leases from a real etcd; a third host runs the
 * kernel's VXLAN device as flanneld sets up flannel.1, its lease written with etcdctl exactly as
 * flanneld writes it and its peers programmed from the leases it reads there. Pods on all three
 * reach each other both ways (ping, TCP), and deleting the kernel node's key from etcd takes its
 * routes away on our nodes until it is put back.
 */
class EtcdPodsIT {
    private static final Duration START = Duration.ofSeconds(40);
    private static final Duration CHANGE = Duration.ofSeconds(15);
    private static final String PREFIX = "/dpcni/network";
    private static final Path CNI = Path.of("/usr/lib/cni");
    private static final Ipv4Prefix KERNEL_SUBNET = Ipv4Prefix.parse("10.246.30.0/24");

    @TempDir
    Path tmp;
    private Testbed bed;
    private EtcdProcess etcd;
    private final List<String> pods = new ArrayList<>();
    private final List<Leftovers.Hold> podHolds = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        EtcdProcess.assumeInstalled();
        Prerequisites.cniPlugin("bridge");
        Prerequisites.cniPlugin("host-local");
        Prerequisites.program("iptables"); // the bridge plugin's ipMasq
        bed = Testbed.hosts(4);
        etcd = EtcdProcess.inNamespace(bed.host(4).name(), bed.host(4).addressText());
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (int i = 0; i < pods.size(); i++) {
                Hosts.run("ip", "netns", "delete", pods.get(i));
                podHolds.get(i).release();
            }
            if (bed != null) bed.close();
        } finally {
            if (etcd != null) etcd.close();
        }
    }

    @Test
    void podsOnOurNodesAndOnTheKernelsReachEachOtherThroughEtcdsLeases() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");
        Testbed.Host kernel = bed.host(3);
        String kernelMac = kernelFlannel1(kernel);
        String kernelKey = PREFIX + "/subnets/10.246.30.0-24";
        String kernelValue = "{\"PublicIP\":\"" + kernel.addressText() + "\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
                + "\"VtepMAC\":\"" + kernelMac + "\"}}";
        putWithLease(kernelKey, kernelValue);

        Tool[] nodes = new Tool[3];
        String[] podIps = new String[4];
        for (int i = 1; i <= 2; i++) {
            Testbed.Host h = bed.host(i);
            Path env = tmp.resolve("n" + i + "/subnet.env");
            nodes[i] = bed.own(Tool.start(Cli.dataplaneIn(h, "node", "--etcd-endpoints", etcd.endpoint().toString(), "--etcd-prefix", PREFIX,
                    "--subnet-file", env.toString(), "--state-dir", tmp.resolve("n" + i + "/state").toString(), "--public-ip", h.addressText(),
                    "--stats-interval", "0")));
            awaitLine(nodes[i], "subnet.env: ", START);
            awaitLine(nodes[i], "peers: added 10.246.30.0/24 at " + kernel.addressText(), START);
            podIps[i] = attachPod(h, SubnetEnv.read(env), i);
        }
        // The kernel node, as flanneld programs flannel.1 from the leases it reads in etcd.
        JsonNode kvs = new ObjectMapper().readTree(etcd.etcdctl("get", PREFIX + "/subnets/", "--prefix", "-w", "json")).get("kvs");
        for (JsonNode kv : kvs) {
            String key = new String(java.util.Base64.getDecoder().decode(kv.get("key").asText()), StandardCharsets.UTF_8);
            if (key.equals(kernelKey)) continue;
            JsonNode lease = new ObjectMapper().readTree(java.util.Base64.getDecoder().decode(kv.get("value").asText()));
            String name = key.substring(key.lastIndexOf('/') + 1);
            String vtep = name.substring(0, name.indexOf('-'));
            String mac = lease.get("BackendData").get("VtepMAC").asText();
            Hosts.run("ip", "-n", kernel.name(), "neigh", "add", vtep, "lladdr", mac, "dev", "flannel.1", "nud", "permanent");
            Hosts.run("bridge", "-n", kernel.name(), "fdb", "append", mac, "dev", "flannel.1", "dst", lease.get("PublicIP").asText());
            Hosts.run("ip", "-n", kernel.name(), "route", "add", vtep + "/24", "via", vtep, "dev", "flannel.1", "onlink");
        }
        podIps[3] = attachPod(kernel, new SubnetEnv(Ipv4Prefix.parse("10.246.0.0/16"), KERNEL_SUBNET, 1450, false), 3);

        for (int i = 1; i <= 3; i++) {
            for (int j = 1; j <= 3; j++) if (i != j) assertPing(pods.get(i - 1), podIps[j], true);
        }
        assertTcp(pods.get(0), pods.get(1), podIps[2]);  // our node to our node
        assertTcp(pods.get(0), pods.get(2), podIps[3]);  // ours to the kernel's
        assertTcp(pods.get(2), pods.get(1), podIps[2]);  // the kernel's to ours

        // The kernel node's key deleted: our nodes drop its routes (traffic to it stops); put back: it flows again.
        etcd.etcdctl("del", kernelKey);
        for (int i = 1; i <= 2; i++) awaitLine(nodes[i], "peers: removed 10.246.30.0/24", CHANGE);
        assertPing(pods.get(0), podIps[3], false);
        putWithLease(kernelKey, kernelValue);
        for (int i = 1; i <= 2; i++) {
            long deadline = System.nanoTime() + CHANGE.toNanos();
            while (countLines(nodes[i].stdout(), "peers: added 10.246.30.0/24") < 2) {
                assertTrue(System.nanoTime() < deadline, nodes[i].output());
                Thread.sleep(50);
            }
        }
        assertPing(pods.get(0), podIps[3], true);
    }

    /** flannel.1 as flanneld creates it for a host of subnet 10.246.30.0/24; its MAC. */
    private String kernelFlannel1(Testbed.Host h) throws IOException {
        Hosts.run("ip", "-n", h.name(), "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", h.addressText(), "dev", h.underlay(),
                "dstport", "8472", "nolearning");
        Hosts.run("ip", "-n", h.name(), "link", "set", "flannel.1", "mtu", "1450", "up");
        Hosts.run("ip", "-n", h.name(), "addr", "add", "10.246.30.0/32", "dev", "flannel.1");
        return Hosts.json("ip", "-j", "-n", h.name(), "link", "show", "dev", "flannel.1").get(0).get("address").asText();
    }

    /** {@code key = value} on a fresh 24 h etcd lease, as flanneld writes its own. */
    private void putWithLease(String key, String value) throws Exception {
        Matcher m = Pattern.compile("lease (\\p{XDigit}+) granted").matcher(etcd.etcdctl("lease", "grant", "86400"));
        assertTrue(m.find());
        etcd.etcdctl("put", "--lease=" + m.group(1), key, value);
    }

    /**
     * A pod: a namespace of its own attached to {@code host}'s cni0 by the bridge plugin, with the
     * delegate config flannel's CNI plugin writes from {@code env}; returns its address.
     */
    private String attachPod(Testbed.Host host, SubnetEnv env, int i) throws Exception {
        String pod = "dppod" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
        Leftovers.Hold hold = Leftovers.namespace(pod);
        try {
            Hosts.run("ip", "netns", "add", pod);
        } catch (IOException | RuntimeException e) {
            hold.release();
            throw e;
        }
        pods.add(pod);
        podHolds.add(hold);
        String conf = "{\"cniVersion\":\"0.3.1\",\"name\":\"cbr0\",\"type\":\"bridge\",\"isGateway\":true,\"isDefaultGateway\":true,"
                + "\"hairpinMode\":true,\"ipMasq\":" + !env.ipMasq() + ",\"mtu\":" + env.mtu() + ",\"ipam\":{\"type\":\"host-local\","
                + "\"ranges\":[[{\"subnet\":\"" + env.subnet() + "\"}]],\"routes\":[{\"dst\":\"" + env.network() + "\"}],\"dataDir\":\""
                + tmp.resolve("ipam" + i) + "\"}}";
        ProcessBuilder b = new ProcessBuilder(host.exec(CNI.resolve("bridge").toString()));
        b.environment().put("CNI_COMMAND", "ADD");
        b.environment().put("CNI_CONTAINERID", pod);
        b.environment().put("CNI_NETNS", "/var/run/netns/" + pod);
        b.environment().put("CNI_IFNAME", "eth0");
        b.environment().put("CNI_PATH", CNI.toString());
        b.redirectErrorStream(true);
        Process p = b.start();
        p.getOutputStream().write(conf.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bridge plugin did not end");
        assertEquals(0, p.exitValue(), "bridge plugin: " + out);
        String address = new ObjectMapper().readTree(out).get("ips").get(0).get("address").asText();
        Ipv4Prefix podPrefix = Ipv4Prefix.parse(address.substring(0, address.indexOf('/')) + "/32");
        assertTrue(env.subnet().contains(podPrefix.address()), address + " in " + env.subnet());
        return Ipv4Address.toString(podPrefix.address());
    }

    private static void assertPing(String pod, String to, boolean answered) throws Exception {
        Tool t = Tool.run(Duration.ofSeconds(30), "ip", "netns", "exec", pod, "ping", "-c", "3", "-i", "0.2", "-W", "1", to);
        Traffic.Ping p = Traffic.parsePing(t.stdout());
        if (answered) assertTrue(p.received() >= 2, pod + " -> " + to + ": " + t.output());
        else assertEquals(0, p.received(), pod + " -> " + to + " should find no route: " + t.output());
    }

    private static void assertTcp(String clientPod, String serverPod, String serverIp) throws Exception {
        try (Tool server = Tool.start("ip", "netns", "exec", serverPod, "iperf3", "-s", "-1", "--forceflush", "-B", serverIp)) {
            server.awaitStdout("Server listening", Duration.ofSeconds(10));
            Tool client = Tool.run(Duration.ofSeconds(30), "ip", "netns", "exec", clientPod, "iperf3", "-c", serverIp, "-t", "1", "-J");
            assertEquals(0, client.exitCode(), client.output());
            double bps = new ObjectMapper().readTree(client.stdout()).get("end").get("sum_received").get("bits_per_second").asDouble();
            assertTrue(bps > 1e6, clientPod + " -> " + serverIp + ": " + bps + " bit/s");
        }
    }

    private static long countLines(String text, String start) {
        return text.lines().filter(l -> l.startsWith(start)).count();
    }
}
