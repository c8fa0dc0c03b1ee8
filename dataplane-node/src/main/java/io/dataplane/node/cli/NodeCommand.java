package io.dataplane.node.cli;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.NodeFiles;
import io.dataplane.core.config.SubnetEnv;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.node.NodeConfig;
import io.dataplane.node.NodeStats;
import io.dataplane.node.OverlayNode;
import io.dataplane.node.PacketPathOptions;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.sys.Errno;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dataplane node --config DIR}: one node of a flannel-style overlay, configured from
 * flannel's files in DIR, running until SIGINT or SIGTERM. With {@code --etcd-endpoints} instead,
 * {@link EtcdNode} takes all of it from flannel's etcd.
 *
 * <pre>
 * read DIR/net-conf.json, subnet.env, peers.json (checked against each other)
 *   -> public IP: --public-ip, or the default route's interface's address (as flanneld)
 *   -> OverlayNode.start: TUN as flannel's device, backend, packet path; state (VTEP MAC, wgkey) in DIR
 *   -> print the node and its lease line; add the peers of peers.json
 *   -> watch peers.json (PeersWatch), answer `dataplane show` on DIR/control.sock (ControlSocket),
 *      stats line every --stats-interval s, metrics and health (/healthz, /readyz) on --metrics-port
 *   -> SIGINT/SIGTERM: the shutdown hook stops all of it and closes the node (TUN gone, buffers back)
 * </pre>
 */
@Command(name = "node", mixinStandardHelpOptions = true, versionProvider = Dataplane.Version.class, sortOptions = false,
        header = "Runs one node from flannel's files in DIR or its etcd (root).",
        description = {"", "One node of a flannel-style overlay: a TUN device as flannel's, and the",
                "backend's packet path between it and the other nodes. Needs root.", "",
                "DIR holds",
                "  net-conf.json  the network, as flannel's:",
                "                   {\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}",
                "  subnet.env     this node's subnet, as flanneld writes it:",
                "                   FLANNEL_NETWORK=10.244.0.0/16",
                "                   FLANNEL_SUBNET=10.244.1.1/24",
                "                   FLANNEL_MTU=1450",
                "                   FLANNEL_IPMASQ=false",
                "  peers.json     the other nodes' leases (watched: edits apply at once):",
                "                   [{\"Subnet\": \"10.244.2.0/24\", \"PublicIP\": \"192.0.2.2\",",
                "                     \"BackendType\": \"vxlan\",",
                "                     \"BackendData\": {\"VNI\": 1, \"VtepMAC\": \"22:e8:35:88:1e:9a\"}}]",
                "and the node keeps its state there (vtep-mac, wgkey). At start it prints its",
                "own lease, one JSON line to add to the other nodes' peers.json.", "",
                "With --etcd-endpoints instead of --config, the node runs as flanneld does against",
                "etcd: the network from <prefix>/config, its lease under <prefix>/subnets/, the",
                "other nodes' leases watched, subnet.env written to --subnet-file.", ""},
        footer = {"", "A bad configuration stops the node with one line naming the file, the field",
                "and the value, and exit code 2."})
final class NodeCommand implements Callable<Integer> {
    private static final String PREFIX = "dataplane node: ";

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "DIR", description = "The directory with flannel's files (above).")
    private Path dir;

    @Mixin
    private EtcdFlags etcd;

    @Option(names = "--public-ip", paramLabel = "IP", converter = Options.Ipv4.class, defaultValue = "${env:FLANNELD_PUBLIC_IP}",
            description = "This node's underlay address, an address of this host (default: the address of the default route's"
                    + " interface, as flanneld picks it).")
    private Integer publicIp;

    @Option(names = "--tun", paramLabel = "NAME", converter = Options.InterfaceNameOption.class,
            description = "The TUN device's name (default: flannel's, e.g. flannel.1 for vxlan, flannel0 for udp).")
    private String tun;

    @Option(names = "--metrics-port", paramLabel = "PORT", converter = Options.Port.class,
            description = "Serve the counters as Prometheus text on this port of the loopback address, path /metrics.")
    private Integer metricsPort;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", defaultValue = "5", converter = Options.Seconds.class,
            description = "Seconds between stats lines, 0 for none (default: ${DEFAULT-VALUE}).")
    private int statsInterval;

    @Option(names = "--busy-poll", paramLabel = "MICROS", converter = Options.BusyPollMicros.class,
            description = "Lower latency for CPU: one packet-path thread polls the TUN and the socket together and keeps"
                    + " polling (up to a core) until MICROS microseconds have passed without a packet, then sleeps; 0-1000000,"
                    + " 0 polls on one thread without spinning (default: two threads, no busy polling). Longer than the gap"
                    + " between the packets of a flow (50000 covers a ping every 10 ms) keeps the thread awake while it lasts.")
    private Integer busyPoll;

    @Option(names = "--queues", paramLabel = "N", converter = Options.Queues.class,
            description = "TUN queues, each with a packet path (threads, buffers, UDP socket) of its own, the kernel spreading"
                    + " flows over them; 1-" + PacketPathOptions.MAX_QUEUES + ", udp and vxlan (default: "
                    + PacketPathOptions.DEFAULT_QUEUES + ").")
    private Integer queues;

    @Option(names = "--no-offload",
            description = "Move TCP one packet per system call: no TSO super-packets from the TUN, no UDP GSO (of segments, or of"
                    + " runs of small datagrams), no joined TUN writes (default: on for udp, vxlan, ipip and wireguard).")
    private boolean noOffload;

    @Option(names = "--no-io-uring",
            description = "Read and write the TUN one packet per system call (default: in batches through io_uring, one system"
                    + " call per batch, where the kernel allows io_uring; where it refuses, the node says so and goes on without).")
    private boolean noIoUring;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (etcd.given()) {
            if (dir != null) {
                throw new ConfigException("command line", "--config", "cannot be combined with --etcd-endpoints: the node takes its"
                        + " network from flannel's files or from etcd, not both");
            }
            return new EtcdNode(this, etcd).run(out, err);
        }
        if (dir == null) {
            throw new ConfigException("command line", "--config", "missing: give --config DIR (flannel's files) or --etcd-endpoints URL"
                    + " (flannel's etcd)");
        }
        if (!Files.isDirectory(dir)) throw new ConfigException("command line", "--config", "not a directory: " + dir);
        Path netConfFile = dir.resolve(NetConf.FILE_NAME);
        NodeFiles files = NodeFiles.read(dir);
        if (files.subnetEnv().ipMasq()) {
            out.println("note: " + dir.resolve(SubnetEnv.FILE_NAME) + ": FLANNEL_IPMASQ=true: this node does not masquerade;"
                    + " set up the NAT rules yourself if pods must reach beyond the overlay");
        }
        int ip = publicIp != null ? publicIp : defaultPublicIp();
        NodeConfig config;
        OverlayNode node;
        try {
            config = tuned(NodeConfig.of(files.netConf(), files.subnetEnv(), ip)).withStateDir(dir);
            node = OverlayNode.start(config);
        } catch (ConfigException e) {
            throw attribute(e);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EADDRINUSE) {
                throw new ConfigException(netConfFile.toString(), "Backend.Port", "port " + files.netConf().backend().udpPort()
                        + " is in use on " + Ipv4Address.toString(ip) + " (" + e.getMessage() + ")");
            }
            throw e;
        }

        return serve(node, dir, NodeView.ControlPlane.files(dir.resolve(Lease.PEERS_FILE_NAME)), out, err, running -> {
            out.println("lease (add it to the other nodes' peers.json):");
            out.println(node.localLease().toJson());
            Path peersFile = dir.resolve(Lease.PEERS_FILE_NAME);
            PeersWatch watch = new PeersWatch(peersFile, f -> files.withPeers(f).peers(), node, out, err, PREFIX);
            running.watch = watch;
            watch.applyInitial(files.peers());
            running.peersLoaded.open();
            if (files.peers().isEmpty()) out.println("peers: none yet in " + peersFile + " (watching it)");
            watch.start();
        });
    }

    /** Where a running node's peers come from, started once the node runs: peers.json, or etcd. */
    @FunctionalInterface
    interface PeerSource {
        /** Starts it; sets {@code running.watch} to what stops it. */
        void start(Running running) throws Exception;
    }

    /**
     * {@code config} with this command's packet-path choices: the TUN's name, offload, io_uring, busy polling.
     */
    NodeConfig tuned(NodeConfig config) {
        config = config.withTunName(tun);
        if (noOffload) config = config.withPacketPath(config.packetPath().withOffload(false));
        if (queues != null) config = config.withPacketPath(config.packetPath().withQueues(queues));
        if (noIoUring) config = config.withPacketPath(config.packetPath().withIoUring(false));
        if (busyPoll != null) {
            config = config.withPacketPath(config.packetPath().withTunWriter(Pipeline.TunWriter.SINGLE_THREAD).withBusyPollMicros(busyPoll));
        }
        return config;
    }

    /** The public IP of the command line (or FLANNELD_PUBLIC_IP), else the one flanneld would take. */
    int publicIp() throws IOException {
        return publicIp != null ? publicIp : defaultPublicIp();
    }

    /**
     * Runs the started {@code node} until SIGINT or SIGTERM: its start line, its peers from
     * {@code peers}, the control socket {@code dataplane show} asks (which describes
     * {@code controlPlane}), metrics and the stats line; the shutdown hook stops all of it.
     */
    int serve(OverlayNode node, Path stateDir, NodeView.ControlPlane controlPlane, PrintWriter out, PrintWriter err, PeerSource peers)
            throws Exception {
        NodeConfig config = node.config();
        int ip = config.publicIp();
        Running running = new Running(node, out, err);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("node-shutdown").unstarted(running::stop));
        try {
            BackendType type = node.backendType();
            out.println("node: " + type.flannelName() + ", subnet " + config.subnet() + " of " + config.netConf().network()
                    + ", public IP " + Ipv4Address.toString(ip) + " on " + node.underlayInterface() + ", " + device(node)
                    + (node.port() != 0 ? ", port " + node.port() : "") + (node.offload() ? ", TCP offload" : "")
                    + (node.queues() > 1 ? ", " + node.queues() + " queues" : "") + (node.ioUring() ? ", TUN io_uring" : "") + ", state in " + stateDir
                    + (busyPoll != null && node.tunName() != null ? ", one packet-path thread, busy polling until " + busyPoll + " us without a packet" : ""));
            peers.start(running);
            Instant startedAt = Instant.now();
            try {
                running.control = ControlSocket.start(stateDir, () -> NodeView.of(node, controlPlane, stateDir, startedAt).toString());
                String flag = controlPlane.type().equals("files") ? "--config " : "--state-dir ";
                out.println("control: " + running.control.path() + " (dataplane show " + flag + stateDir + ")");
            } catch (ConfigException e) {
                throw e;
            } catch (IOException e) {
                // The packet path runs without it: only show cannot ask this node.
                err.println(PREFIX + "no control socket, dataplane show cannot ask this node: " + e.getMessage());
            }
            if (metricsPort != null) {
                running.metrics = MetricsEndpoint.start(metricsPort, node, running.readiness);
                out.println("metrics: http://127.0.0.1:" + running.metrics.port() + "/metrics (health: /healthz, /readyz)");
            }
            if (node.tunName() == null && statsInterval > 0) {
                out.println("stats: none (host-gw: the kernel forwards between the nodes, this node counts nothing)");
            }
            running.startStats(node.tunName() != null ? statsInterval : 0);
        } catch (Exception | Error e) {
            // SIGINT or SIGTERM while starting: the hook closed the node under us, and what failed
            // here failed for that reason; the hook has said what it stopped.
            boolean signalled = running.isStopping();
            running.stop();
            if (signalled) return 0;
            throw e;
        }
        running.stopped.await(); // the shutdown hook ends the process
        return 0;
    }

    /** {@code TUN flannel.1 mtu 1450}, or what stands for it on host-gw. */
    static String device(OverlayNode node) {
        return node.tunName() != null ? "TUN " + node.tunName() + " mtu " + node.tunMtu()
                : "no TUN (host-gw: kernel routes via the peers' public IPs)";
    }

    /** The address flanneld would take, or a line saying to pass --public-ip. */
    static int defaultPublicIp() throws IOException {
        try {
            return OverlayNode.defaultPublicIp();
        } catch (ConfigException e) {
            throw new ConfigException("command line", "--public-ip", "not given, and " + e.detail() + "; pass --public-ip IP");
        }
    }

    /**
     * The library names fields by its own names and no file: say which file or option a field of
     * the node's configuration came from.
     */
    private ConfigException attribute(ConfigException e) {
        if (e.source() != null || e.field() == null) return e;
        String field = e.field();
        if (field.startsWith("Backend") || field.equals("Network")) return e.withSource(dir.resolve(NetConf.FILE_NAME).toString());
        return switch (field) {
            case "publicIp" -> new ConfigException("command line", "--public-ip", e.detail());
            case "tunName" -> new ConfigException("command line", "--tun", e.detail());
            case "queues" -> new ConfigException("command line", "--queues", e.detail());
            case "tunMtu" -> new ConfigException(dir.resolve(SubnetEnv.FILE_NAME).toString(), "FLANNEL_MTU", e.detail());
            case "subnet" -> new ConfigException(dir.resolve(SubnetEnv.FILE_NAME).toString(), "FLANNEL_SUBNET", e.detail());
            default -> e;
        };
    }

    /**
     * What runs beside the node, and the one way to stop all of it: {@link #stop}, from the
     * shutdown hook (SIGINT, SIGTERM, System.exit) or from a start that failed half way.
     */
    static final class Running {
        private final OverlayNode node;
        private final PrintWriter out;
        private final PrintWriter err;
        private final CountDownLatch stopped = new CountDownLatch(1);
        /** What feeds the node its peers (PeersWatch, the etcd control plane); closed first at stop. */
        volatile AutoCloseable watch;
        /** What /readyz checks; a control plane that holds a lease adds its gate ({@link Readiness}). */
        final Readiness readiness;
        /** Open once the control plane's first peers are applied (peers.json read, a store listed). */
        final Readiness.Gate peersLoaded;
        private volatile MetricsEndpoint metrics;
        private volatile ControlSocket control;
        private volatile Thread stats;
        private boolean stopping;

        Running(OverlayNode node, PrintWriter out, PrintWriter err) {
            this.node = node;
            this.out = out;
            this.err = err;
            this.readiness = Readiness.of(node);
            this.peersLoaded = readiness.gate("peers", "not loaded yet");
        }

        /**
         * Every second: stop the process if the packet path died, say when the TUN's MTU followed
         * the underlay's; every {@code seconds}: print the stats line.
         */
        void startStats(int seconds) {
            stats = Thread.ofPlatform().name("node-stats").daemon().start(() -> {
                NodeStats last = node.stats();
                int mtu = node.tunMtu();
                long ticks = 0;
                try {
                    while (true) {
                        Thread.sleep(1000);
                        if (!node.isRunning()) {
                            if (isStopping()) return;
                            err.println(PREFIX + "the packet path stopped: " + Problem.of(node.failure()).line());
                            System.exit(Dataplane.EXIT_FAILURE); // runs the shutdown hook
                        }
                        int nowMtu = node.tunMtu();
                        if (nowMtu != mtu) {
                            out.println("mtu: underlay " + node.underlayInterface() + " mtu " + node.underlayMtu() + ", TUN " + node.tunName()
                                    + " mtu " + mtu + " -> " + nowMtu + " (follows the underlay)");
                            mtu = nowMtu;
                        }
                        if (seconds > 0 && ++ticks % seconds == 0) {
                            NodeStats now = node.stats();
                            out.println("stats: " + StatsLine.of(last, now));
                            last = now;
                        }
                    }
                } catch (InterruptedException e) {
                    // stop()
                }
            });
        }

        private synchronized boolean isStopping() {
            return stopping;
        }

        /** Stops the watcher, the stats and the metrics, closes the node and says what it left. Idempotent. */
        void stop() {
            synchronized (this) {
                if (stopping) return;
                stopping = true;
            }
            try {
                if (watch != null) {
                    try {
                        watch.close();
                    } catch (Exception e) {
                        err.println(PREFIX + "stopping the peer source: " + Problem.of(e).line());
                    }
                }
                if (stats != null) stats.interrupt();
                if (metrics != null) metrics.close();
                if (control != null) control.close();
                node.close();
                NodeStats last = node.stats();
                int left = node.buffersInUse();
                String tun = node.tunName();
                out.println("stopped: " + (tun == null ? "peer routes removed" : "TUN " + tun + (tunGone(tun) ? " removed" : " still there"
                        + " (it existed before the node)")) + ", " + (left == 0 ? "all " + last.buffers() + " packet buffers returned"
                        : left + " packet buffers NOT returned")
                        + "; egress " + last.egressPackets() + " packets " + last.egressBytes() + " bytes, ingress " + last.ingressPackets()
                        + " packets " + last.ingressBytes() + " bytes, " + StatsLine.drops(last));
                if (left != 0) err.println(PREFIX + "error: " + left + " packet buffers were not returned at close");
            } finally {
                out.flush();
                err.flush();
                stopped.countDown();
            }
        }

        private static boolean tunGone(String name) {
            try (Netlink netlink = Netlink.open()) {
                netlink.link(name);
                return false;
            } catch (ErrnoException e) {
                return e.errno() == Errno.ENODEV;
            } catch (IOException e) {
                return false;
            }
        }
    }
}
