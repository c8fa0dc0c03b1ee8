package io.dataplane.ipip;

import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netlink.Route;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.raw.RawIpSocket;
import io.dataplane.tun.testing.Hosts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ipip backend over real TUN devices and raw sockets, without the node: two namespaces over a
 * veth pair, each with a TUN set up as flanneld sets up {@code flannel.ipip} (subnet address /32,
 * the network routed into it, MTU 1480), the backend and core's pipeline, and a pod address on
 * {@code lo}. tshark on the underlay decodes what we send as IPIP with the pod's ICMP inside and
 * the inner DF copied out; IP-in-IP from an address that is no peer's is dropped and counted; and
 * the kernel, which has no ipip module here, stays quiet while the backend's socket takes protocol
 * 4 (it answers with ICMP protocol unreachable once the socket is gone).
 */
class IpipTunnelTest {
    static final NetConf IPIP = NetConf.of(Ipv4Prefix.parse("10.244.0.0/16"), BackendConf.defaults(BackendType.IPIP));
    static final int A = Ipv4Address.parse("192.0.2.1");
    static final int B = Ipv4Address.parse("192.0.2.2");
    static final int STRANGER = Ipv4Address.parse("192.0.2.99");

    @TempDir
    Path dir;
    Hosts hosts;
    final List<AutoCloseable> owned = new ArrayList<>();
    NetNamespace nsA;
    NetNamespace nsB;
    String vethA;
    String vethB;

    /** One host: its TUN, backend, pipeline and pool. */
    record Node(TunDevice tun, IpipBackend backend, Pipeline pipeline, PacketPool pool) implements AutoCloseable {
        Counters.Snapshot stats() {
            return Counters.Snapshot.of(pipeline.counters());
        }

        @Override
        public void close() {
            pipeline.close();
            backend.close();
            int out = pool.outstanding();
            pool.close();
            assertEquals(0, out, "buffers still out after close");
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        nsA = hosts.namespace("dpipa");
        nsB = hosts.namespace("dpipb");
        vethA = Hosts.unique("dpip");
        vethB = Hosts.unique("dpip");
        run("ip", "link", "add", vethA, "netns", nsA.name(), "type", "veth", "peer", "name", vethB, "netns", nsB.name());
        underlay(nsA, vethA, "192.0.2.1/24", "10.244.1.1/32");
        underlay(nsB, vethB, "192.0.2.2/24", "10.244.2.1/32");
    }

    private static void underlay(NetNamespace ns, String dev, String address, String pod) throws IOException {
        run("ip", "-n", ns.name(), "addr", "add", address, "dev", dev);
        run("ip", "-n", ns.name(), "link", "set", dev, "up");
        run("ip", "-n", ns.name(), "addr", "add", pod, "dev", "lo");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (hosts == null) return;
        try {
            for (int i = owned.size() - 1; i >= 0; i--) owned.get(i).close();
        } finally {
            hosts.close();
        }
    }

    /** The TUN as flanneld sets up flannel.ipip, the backend, the pipeline; all inside {@code ns}. */
    Node node(NetNamespace ns, int publicIp, String subnet) throws Exception {
        Ipv4Prefix sub = Ipv4Prefix.parse(subnet);
        Node n = ns.call(() -> {
            TunDevice tun = TunDevice.open("flannel.ipip");
            try (Netlink nl = Netlink.open()) {
                nl.setMtu(tun.name(), 1480);
                // No IPv6 link-local address: else the kernel sends router solicitations into the TUN (NOT_IPV4 drops).
                run("ip", "-n", ns.name(), "link", "set", tun.name(), "addrgenmode", "none");
                nl.addAddress(tun.name(), sub.address(), 32);
                nl.setUp(tun.name(), true);
                nl.addRoute(Route.direct(IPIP.network(), tun.name()));
            }
            PacketPool pool = new PacketPool(1024);
            IpipBackend backend = IpipBackend.open(new BackendContext(IPIP, sub, publicIp, tun.name(), 1480, pool, dir));
            Pipeline pipeline = new Pipeline(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool, 512);
            return new Node(tun, backend, pipeline, pool);
        });
        owned.add(n);
        return n;
    }

    static Hosts.Result ping(NetNamespace ns, String src, String dst, String pmtudisc) throws Exception {
        return Hosts.runAnyway("ip", "netns", "exec", ns.name(), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-M", pmtudisc, "-I", src, dst);
    }

    /** Runs tshark on {@code dev} in {@code ns} until {@code count} frames matched {@code filter} or 15 s passed; returns its output. */
    Process tshark(NetNamespace ns, String dev, Path out, int count, String filter, String... fields) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(), "tshark", "-i", dev, "-n", "-l", "-c", String.valueOf(count),
                "-a", "duration:15", "-f", filter, "-T", "fields", "-E", "separator=;"));
        for (String f : fields) cmd.addAll(List.of("-e", f));
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(dir.resolve("tshark.err").toFile()).start();
        owned.add(() -> {
            if (p.isAlive()) p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.readString(dir.resolve("tshark.err")).contains("Capturing on")) {
            assertTrue(System.nanoTime() < deadline && p.isAlive(), "tshark did not start: " + Files.readString(dir.resolve("tshark.err")));
            Thread.sleep(50);
        }
        return p;
    }

    static long snmp(NetNamespace ns, String table, String field) throws IOException {
        List<String> lines = run("ip", "netns", "exec", ns.name(), "cat", "/proc/net/snmp").lines().filter(l -> l.startsWith(table + ":")).toList();
        List<String> names = List.of(lines.get(0).split("\\s+"));
        return Long.parseLong(lines.get(1).split("\\s+")[names.indexOf(field)]);
    }

    @Test
    void tsharkDecodesOurFramesAsIpipWithTheInnerDfCopiedOut() throws Exception {
        assumeTool("tshark");
        Node a = node(nsA, A, "10.244.1.0/24");
        Node b = node(nsB, B, "10.244.2.0/24");
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());

        Path out = dir.resolve("frames.txt");
        Process capture = tshark(nsA, vethA, out, 6, "ip proto 4 and src host 192.0.2.1", "frame.protocols", "ip.proto", "ip.src", "ip.dst",
                "ip.flags.df", "ip.ttl", "ip.id", "icmp.type");
        for (String pmtudisc : new String[] {"do", "dont"}) {
            Hosts.Result r = ping(nsA, "10.244.1.1", "10.244.2.1", pmtudisc);
            assertEquals(0, r.exitCode(), r.output());
        }
        // tshark may come up a moment after it says so: ping on until it has its frames.
        for (int i = 0; i < 10 && capture.isAlive(); i++) ping(nsA, "10.244.1.1", "10.244.2.1", i % 2 == 0 ? "do" : "dont");
        assertTrue(capture.waitFor(20, TimeUnit.SECONDS), "tshark saw fewer than 6 frames: " + Files.readString(out));
        List<String> frames = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(6, frames.size(), frames.toString());
        int withDf = 0;
        for (String frame : frames) {
            String[] f = frame.split(";", -1);
            assertEquals("eth:ethertype:ip:ip:icmp:data", f[0], "outer IPv4 carrying IPv4 (IPIP) carrying ICMP: " + frame);
            assertEquals("4,1", f[1], "protocols: IPIP outside, ICMP inside: " + frame);
            assertEquals("192.0.2.1,10.244.1.1", f[2], frame);
            assertEquals("192.0.2.2,10.244.2.1", f[3], frame);
            String[] dfs = f[4].split(",");
            assertEquals(dfs[1], dfs[0], "outer DF copied from the inner: " + frame);
            if (dfs[0].equals("1")) {
                withDf++;
                assertEquals("0x0000", f[6].split(",")[0], "identification 0 on an atomic datagram: " + frame);
            }
            assertEquals("64", f[5].split(",")[0], "outer TTL 64: " + frame);
            assertEquals("8", f[7], "inner echo request: " + frame);
        }
        assertTrue(withDf > 0 && withDf < 6, "frames with and without DF: " + frames);
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal(), java.util.Arrays.toString(a.stats().drops()) + java.util.Arrays.toString(b.stats().drops()));
    }

    @Test
    void unknownPeersAreDroppedAndCountedAndTheKernelStaysQuiet() throws Exception {
        Node a = node(nsA, A, "10.244.1.0/24");
        Node b = node(nsB, B, "10.244.2.0/24");
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());
        run("ip", "-n", nsB.name(), "addr", "add", "192.0.2.99/24", "dev", vethB);
        long unreachablesBefore = snmp(nsA, "Icmp", "OutDestUnreachs");

        int strangers = 25;
        try (RawIpSocket s = nsB.call(() -> RawIpSocket.open(Ipv4Header.PROTO_IPIP, 32, true)); PacketPool pool = new PacketPool(32)) {
            PacketBuffer[] batch = new PacketBuffer[strangers];
            pool.acquire(batch, strangers);
            try {
                for (int i = 0; i < strangers; i++) strangerFrame(batch[i], i);
                assertEquals(strangers, s.send(batch, strangers));
            } finally {
                PacketPool.releaseAll(batch, 0, strangers);
            }
            awaitDrops(a, DropReason.UNKNOWN_PEER, strangers);
            Hosts.Result ok = ping(nsA, "10.244.1.1", "10.244.2.1", "do");
            assertEquals(0, ok.exitCode(), "good traffic goes on: " + ok.output());
            assertEquals(unreachablesBefore, snmp(nsA, "Icmp", "OutDestUnreachs"), "no ICMP protocol unreachable while our socket takes protocol 4");

            // Without the backend's socket the kernel, which has no ipip handler, answers every one.
            owned.remove(a);
            a.close();
            pool.acquire(batch, 1);
            try {
                strangerFrame(batch[0], 99);
                assertEquals(1, s.send(batch, 1));
            } finally {
                PacketPool.releaseAll(batch, 0, 1);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (snmp(nsA, "Icmp", "OutDestUnreachs") == unreachablesBefore && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(unreachablesBefore + 1, snmp(nsA, "Icmp", "OutDestUnreachs"), "protocol unreachable once nothing takes protocol 4");
        }
    }

    /** An IP-in-IP datagram from 192.0.2.99 (no peer's address) to A around a valid echo request to A's pod. */
    private static void strangerFrame(PacketBuffer p, int seq) {
        byte[] inner = TestPackets.echoRequest(Ipv4Address.parse("10.244.2.1"), Ipv4Address.parse("10.244.1.1"), 64, 7, seq, 16);
        p.setData(p.offset() + 20, 0).put(inner);
        p.prepend(20);
        new Ipv4Header().wrap(p.segment(), p.offset()).setVersion4AndIhl(5).setTotalLength(p.length()).setTtl(64)
                .setProtocol(Ipv4Header.PROTO_IPIP).setSrcAddr(STRANGER).setDstAddr(A).fillChecksum();
        p.setPeer(A, 0);
    }

    private static void awaitDrops(Node n, DropReason reason, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (n.stats().dropped(reason) < expected && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(expected, n.stats().dropped(reason), reason.metricName());
    }

    static void assumeTool(String tool) {
        boolean found = false;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) found |= Files.isExecutable(Path.of(d, tool));
        org.junit.jupiter.api.Assumptions.assumeTrue(found, tool + " is not installed (CI installs it)");
    }
}
