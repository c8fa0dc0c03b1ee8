package io.dataplane.node.cli;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.node.NodeConfig;
import io.dataplane.node.NodeStats;
import io.dataplane.node.OverlayNode;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.sys.Errno;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dataplane demo}: two nodes of ours in one JVM, each in a network namespace of its own,
 * joined by a veth pair as the underlay, and traffic between a "pod" address in each.
 *
 * <pre>
 *  namespace A                                               namespace B
 *  pod 10.244.1.1 (lo)                                       pod 10.244.2.1 (lo)
 *   | route 10.244.0.0/16                                     | route 10.244.0.0/16
 *  TUN flannel.1 -- node A (NetNamespace thread)             TUN flannel.1 -- node B
 *   veth0 192.0.2.1/24 ========= underlay veth pair ========= veth0 192.0.2.2/24
 * </pre>
 *
 * Each node is configured from the other's lease, as a control plane would; then ICMP echo round
 * trips ({@link IcmpEcho}) and a TCP stream ({@link TcpStream}) go from pod A to pod B, made from
 * inside the pods' namespaces by this JVM (no ping or iperf3 needed), while the nodes' rates are
 * printed every second. Everything made is removed at the end, on failure and on Ctrl-C
 * ({@link Teardown}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Dataplane.Version.class, sortOptions = false,
        header = "Two nodes in two namespaces and traffic across the overlay (root).",
        description = {"", "Two nodes of ours in two network namespaces joined by a veth pair; ICMP echo",
                "and a TCP stream from a pod address in one to a pod address in the other",
                "across the overlay, with live stats. Everything it makes is removed at the",
                "end, on failure and on Ctrl-C. Needs root, nothing installed.", ""})
final class DemoCommand implements Callable<Integer> {
    private static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");

    @Spec
    private CommandSpec spec;

    @Option(names = "--backend", paramLabel = "TYPE", defaultValue = "vxlan", converter = Options.Backend.class,
            completionCandidates = Dataplane.SupportedBackends.class,
            description = "The backend both nodes run: ${COMPLETION-CANDIDATES} in this build (default: ${DEFAULT-VALUE}).")
    private BackendType backend;

    @Option(names = "--seconds", paramLabel = "N", defaultValue = "8", converter = Options.Seconds.class,
            description = "How long the TCP stream runs, with a stats line every second"
                    + " (default: ${DEFAULT-VALUE}).")
    private int seconds;

    @Option(names = "--etcd", description = "Take the nodes' subnets and peers from a real etcd in a third namespace, as"
            + " ./dataplane node --etcd-endpoints does (needs etcd and etcdctl).")
    private boolean etcd;

    private PrintWriter out;
    private Teardown teardown;

    /** One side of the demo: its namespace, underlay address, subnet, pod address and node. */
    private record Side(String label, NetNamespace ns, int address, Ipv4Prefix subnet, OverlayNode node) {
        String pod() {
            return Ipv4Address.toString(subnet.address() + 1);
        }
    }

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        if (!isRoot()) {
            throw new Problem.Stop("needs root: it creates network namespaces, a veth pair and TUN devices (try: sudo ./dataplane demo)",
                    Dataplane.EXIT_FAILURE);
        }
        if (!TunDevice.isAvailable()) throw new Problem.Stop("no TUN device: " + TunDevice.unavailabilityCause(), Dataplane.EXIT_FAILURE);
        String supported = String.join(", ", new Dataplane.SupportedBackends());
        if (!OverlayNode.supportedBackends().contains(backend)) {
            throw new ConfigException("command line", "--backend", "not in this build: " + backend + " (this build runs " + supported + ")");
        }
        if (seconds == 0) seconds = 1;
        if (etcd && !DemoEtcd.installed()) {
            throw new Problem.Stop("--etcd: etcd is not installed (apt-get install etcd-server etcd-client)", Dataplane.EXIT_FAILURE);
        }
        teardown = new Teardown(out);
        Thread hook = Thread.ofPlatform().name("demo-cleanup").unstarted(teardown::interrupt);
        Runtime.getRuntime().addShutdownHook(hook);
        long start = System.nanoTime();
        try {
            out.println("demo: two " + backend + " nodes in two network namespaces (backends in this build: " + supported + ")");
            run();
            teardown.run();
            out.printf(Locale.ROOT, "demo: done in %.1f s%n", (System.nanoTime() - start) / 1e9);
            return 0;
        } catch (Exception e) {
            if (teardown.interrupted()) return 130; // Ctrl-C: the hook cleaned up and said so
            throw e;
        } finally {
            teardown.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or has run.
            }
        }
    }

    private void run() throws Exception {
        String suffix = HexFormat.of().formatHex(randomBytes(3));
        NetConf net = NetConf.parse("{\"Network\": \"" + NETWORK + "\", \"Backend\": {\"Type\": \"" + backend.flannelName() + "\"}}");
        NetNamespace nsA = namespace("dpdemo-a-" + suffix);
        NetNamespace nsB = namespace("dpdemo-b-" + suffix);
        Path state = teardown.add(() -> Files.createTempDirectory("dataplane-demo"), dir -> {
            deleteTree(dir);
            return "deleted state directory " + dir;
        });
        DemoEtcd store = null;
        if (etcd) {
            // A bridge in a third namespace joins the two underlays; etcd listens on it.
            NetNamespace nsE = namespace("dpdemo-e-" + suffix);
            ip("-n", nsE.name(), "link", "add", "br0", "type", "bridge");
            ip("-n", nsE.name(), "addr", "add", DemoEtcd.ADDRESS + "/24", "dev", "br0");
            ip("-n", nsE.name(), "link", "set", "br0", "up");
            for (NetNamespace n : List.of(nsA, nsB)) {
                String port = "p" + n.name().charAt(7);
                ip("-n", nsE.name(), "link", "add", port, "type", "veth", "peer", "name", "veth0", "netns", n.name());
                ip("-n", nsE.name(), "link", "set", port, "master", "br0", "up");
            }
            address(nsA, 1);
            address(nsB, 2);
            out.println("underlay: " + nsA.name() + " veth0 192.0.2.1/24 <-- bridge in " + nsE.name() + " --> veth0 192.0.2.2/24 " + nsB.name());
            store = DemoEtcd.start(nsE, state, net, teardown, out);
        } else {
            netlink(nsA, nl -> nl.addVeth("veth0", "veth0", nsB.path()));
            address(nsA, 1);
            address(nsB, 2);
            out.println("underlay: " + nsA.name() + " veth0 192.0.2.1/24 <-- veth pair --> veth0 192.0.2.2/24 " + nsB.name());
        }
        Side a = side("A", nsA, 1, net, state, store);
        Side b = side("B", nsB, 2, net, state, store);
        if (store != null) {
            store.watch(new NetNamespace[] {nsA, nsB}, new OverlayNode[] {a.node(), b.node()});
            out.println("peers: each node took its subnet from etcd and learned the other's lease from its watch");
        } else {
            a.node().addPeer(b.node().localLease());
            b.node().addPeer(a.node().localLease());
            out.println("peers: node A added node B's lease, node B added node A's, as a control plane would");
        }

        ping(a, b);
        tcp(a, b);
        for (Side s : List.of(a, b)) {
            if (s.node().tunName() == null) continue;
            NodeStats st = s.node().stats();
            out.println("node " + s.label() + ": egress " + st.egressPackets() + " packets " + megabytes(st.egressBytes()) + ", ingress "
                    + st.ingressPackets() + " packets " + megabytes(st.ingressBytes()) + ", " + StatsLine.drops(st));
        }
    }

    private NetNamespace namespace(String name) throws Exception {
        NetNamespace ns = teardown.add(() -> NetNamespace.create(name), n -> {
            n.delete();
            return "deleted network namespace " + name + (name.startsWith("dpdemo-a") ? " (and the veth pair with it)" : "");
        });
        netlink(ns, nl -> nl.setUp("lo", true));
        return ns;
    }

    /** Side {@code i}'s underlay address 192.0.2.i/24 on veth0. */
    private void address(NetNamespace ns, int i) throws Exception {
        netlink(ns, nl -> {
            nl.addAddress("veth0", Ipv4Address.parse("192.0.2." + i), 24);
            nl.setUp("veth0", true);
        });
    }

    /**
     * Starts side {@code i}'s node in its namespace at 192.0.2.i: subnet 10.244.i.0/24, or the one
     * it takes from {@code store} when there is one; the pod address (the subnet's first) on lo.
     */
    private Side side(String label, NetNamespace ns, int i, NetConf net, Path state, DemoEtcd store) throws Exception {
        int address = Ipv4Address.parse("192.0.2." + i);
        Path stateDir = state.resolve(label.toLowerCase(Locale.ROOT));
        Ipv4Prefix subnet = store != null ? store.lease(ns, label, address, stateDir).subnet() : Ipv4Prefix.parse("10.244." + i + ".0/24");
        netlink(ns, nl -> nl.addAddress("lo", subnet.address() + 1, 32));
        NodeConfig config = NodeConfig.of(net, subnet, address).withStateDir(stateDir);
        OverlayNode node = teardown.add(() -> ns.call(() -> OverlayNode.start(config)), n -> {
            n.close();
            int left = n.buffersInUse();
            if (n.tunName() == null) return "closed node " + label + ": its routes to the peer removed";
            boolean gone = ns.call(() -> !linkExists(n.tunName()));
            return "closed node " + label + ": TUN " + n.tunName() + (gone ? " removed" : " STILL THERE") + ", "
                    + (left == 0 ? "all packet buffers returned" : "ERROR: " + left + " packet buffers not returned");
        });
        Side side = new Side(label, ns, address, subnet, node);
        out.println("node " + label + ": " + backend + " " + subnet + " at " + Ipv4Address.toString(address) + ", "
                + NodeCommand.device(node) + ", pod " + side.pod() + " on lo");
        out.println("        lease " + node.localLease().toJson());
        return side;
    }

    private static boolean linkExists(String name) throws IOException {
        try (Netlink netlink = Netlink.open()) {
            netlink.link(name);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENODEV) return false;
            throw e;
        }
    }

    private void ping(Side from, Side to) throws Exception {
        int source = Ipv4Address.parse(from.pod());
        IcmpEcho echo = teardown.add(() -> IcmpEcho.open(from.ns(), source), e -> {
            e.close();
            return null;
        });
        IcmpEcho.Result r = echo.run(Ipv4Address.parse(to.pod()), 5, Duration.ofMillis(200), Duration.ofSeconds(2));
        String times = r.received() > 0
                ? String.format(Locale.ROOT, ", rtt min/avg/max %.3f/%.3f/%.3f ms", r.minMillis(), r.avgMillis(), r.maxMillis()) : "";
        out.println("ping " + from.pod() + " -> " + to.pod() + " (pod " + from.label() + " to pod " + to.label() + "): " + r.received()
                + " of " + r.sent() + " answered" + times);
        if (r.received() == 0) {
            throw new Problem.Stop("ping across the overlay got no answer: node " + from.label() + " " + from.node().stats() + "; node "
                    + to.label() + " " + to.node().stats(), Dataplane.EXIT_FAILURE);
        }
    }

    private void tcp(Side client, Side server) throws Exception {
        out.println("tcp: a stream from pod " + client.label() + " to pod " + server.label() + " for " + seconds + " s"
                + (client.node().tunName() != null ? " (A->B: node A's egress, B->A: node B's)" : ""));
        TcpStream stream = teardown.add(() -> TcpStream.start(client.ns(), Ipv4Address.parse(client.pod()), server.ns(),
                Ipv4Address.parse(server.pod()), Duration.ofSeconds(seconds)), t -> t.stop() ? "stopped the TCP stream" : null);
        liveStats(client, server, stream::await);
        if (!stream.await(Duration.ofSeconds(10))) {
            throw new Problem.Stop("tcp: the stream did not end 10 s after its time; " + stream.bytesReceived() + " bytes received",
                    Dataplane.EXIT_FAILURE);
        }
        if (stream.failure() != null || stream.bytesReceived() == 0) {
            throw new Problem.Stop("tcp across the overlay failed: " + (stream.failure() != null ? stream.failure() : "nothing received")
                    + "; node " + client.label() + " " + client.node().stats() + "; node " + server.label() + " " + server.node().stats(),
                    Dataplane.EXIT_FAILURE);
        }
        out.println("tcp: " + StatsLine.bits(stream.bitsPerSecond()) + " received, " + stream.retransmissions() + " TCP retransmissions");
    }

    /** Something running that can be waited for: true once it has ended. */
    private interface Running {
        boolean await(Duration timeout) throws InterruptedException;
    }

    /** A stats line every second while {@code running} runs: each node's egress (A->B is node A's). */
    private void liveStats(Side a, Side b, Running running) throws InterruptedException {
        if (a.node().tunName() == null) {
            out.println("   (host-gw: the kernel forwards between the pods, the nodes only set up its routes and count nothing)");
            running.await(Duration.ofSeconds(seconds + 30L));
            return;
        }
        NodeStats lastA = a.node().stats();
        NodeStats lastB = b.node().stats();
        for (int t = 1; !running.await(Duration.ofSeconds(1)); t++) {
            NodeStats nowA = a.node().stats();
            NodeStats nowB = b.node().stats();
            out.printf(Locale.ROOT, "%4d s  %s->%s %s   %s->%s %s   %s%n", t, a.label(), b.label(), egress(lastA, nowA), b.label(), a.label(),
                    egress(lastB, nowB), drops(nowA, nowB));
            lastA = nowA;
            lastB = nowB;
        }
    }

    private static String egress(NodeStats before, NodeStats now) {
        double s = Math.max(1e-9, (now.nanoTime() - before.nanoTime()) / 1e9);
        return String.format(Locale.ROOT, "%-30s", StatsLine.rate(now.egressPackets() - before.egressPackets(),
                now.egressBytes() - before.egressBytes(), s));
    }

    private static String drops(NodeStats a, NodeStats b) {
        if (a.droppedTotal() == 0 && b.droppedTotal() == 0) return "no drops";
        return "A " + StatsLine.drops(a) + "; B " + StatsLine.drops(b);
    }

    /** A change made through rtnetlink inside a namespace. */
    private interface NetlinkChange {
        void apply(Netlink netlink) throws IOException;
    }

    private void netlink(NetNamespace ns, NetlinkChange change) throws Exception {
        // Nothing to undo: what it makes lives in the demo's namespaces and goes with them.
        teardown.add(() -> ns.call(() -> {
            try (Netlink nl = Netlink.open()) {
                change.apply(nl);
            }
            return ns;
        }), ignored -> null);
    }

    /** {@code ip ARGS}: only etcd mode, which runs etcd as a program anyway, builds its bridge with it. */
    private void ip(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        // Nothing to undo: what ip makes lives in the demo's namespaces and goes with them.
        teardown.add(() -> ChildProcess.run(command), ignored -> null);
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.split("\\s+")[2].equals("0"); // real, effective, ...
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
