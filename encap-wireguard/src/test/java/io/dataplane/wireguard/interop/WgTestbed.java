package io.dataplane.wireguard.interop;


import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.TunOffload;
import io.dataplane.tun.TunOptions;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netlink.Route;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.Leftovers;
import io.dataplane.wireguard.WireGuardBackend;
import io.dataplane.wireguard.WireGuardBackendProvider;
import io.dataplane.wireguard.WireGuardOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The hosts of a root-only WireGuard test: two network namespaces with unique names joined by a
 * veth pair (192.0.2.1 and 192.0.2.2 on {@code veth0}), host i with subnet 10.244.i.0/24 and its pod
 * address 10.244.i.1/32 on {@code lo}; our nodes (a real TUN configured as flanneld configures its
 * device, the {@link WireGuardBackend} on its default UDP socket transport, the core's {@link Pipeline}), built
 * inside a namespace through its {@link NetNamespace} thread; and wireguard-go processes.
 * {@link #close} stops and removes everything in reverse order, also after a failure, processes by
 * their own PID; {@link Leftovers} holds all of it meanwhile, for a JVM that ends or is killed first.
 */
final class WgTestbed implements AutoCloseable {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    static final int PORT = 51820;

    /** One host: its namespace, underlay address, subnet and pod address. */
    record Host(NetNamespace ns, int address, Ipv4Prefix subnet) {
        String name() {
            return ns.name();
        }

        String addressText() {
            return Ipv4Address.toString(address);
        }

        /** The pod address, 10.244.i.1. */
        String pod() {
            return Ipv4Address.toString(subnet.address() + 1);
        }

        /** {@code command} as run inside this host's namespace. */
        String[] exec(String... command) {
            String[] full = new String[command.length + 4];
            full[0] = "ip";
            full[1] = "netns";
            full[2] = "exec";
            full[3] = ns.name();
            System.arraycopy(command, 0, full, 4, command.length);
            return full;
        }
    }

    private final Hosts hosts = new Hosts();
    private final List<Host> list = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Path stateRoot;
    private final Leftovers.Hold stateHold;

    private WgTestbed() throws IOException {
        stateRoot = Files.createTempDirectory("wgtest");
        stateHold = Leftovers.path(stateRoot);
    }

    /** Two hosts over a veth pair; skips unless root with a TUN. */
    static WgTestbed twoHosts() throws IOException {
        Hosts.assumeRoot();
        WgTestbed t = new WgTestbed();
        try {
            NetNamespace a = t.hosts.namespace("wgt1");
            NetNamespace b = t.hosts.namespace("wgt2");
            Hosts.run("ip", "-n", a.name(), "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", b.name());
            int i = 1;
            for (NetNamespace ns : List.of(a, b)) {
                Host h = new Host(ns, Ipv4Address.parse("192.0.2." + i), Ipv4Prefix.parse("10.244." + i + ".0/24"));
                Hosts.run("ip", "-n", ns.name(), "addr", "add", h.addressText() + "/24", "dev", "veth0");
                Hosts.run("ip", "-n", ns.name(), "link", "set", "veth0", "up");
                Hosts.run("ip", "-n", ns.name(), "addr", "add", h.pod() + "/32", "dev", "lo");
                t.list.add(h);
                i++;
            }
            return t;
        } catch (IOException | RuntimeException | Error e) {
            try {
                t.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    Host host(int i) {
        return list.get(i - 1);
    }

    /** A net-conf.json for wireguard with this Backend object's extra fields (e.g. {@code "PSK": "..."}), or none. */
    static NetConf netConf(String extraBackendFields) {
        String extra = extraBackendFields == null || extraBackendFields.isEmpty() ? "" : ", " + extraBackendFields;
        return NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"wireguard\"" + extra + "}}");
    }

    /** Our node: TUN, backend, pipeline; what the node library will assemble. */
    static final class OurNode implements AutoCloseable {
        final Host host;
        final String tunName;
        final PacketPool pool;
        final PacketPool superPackets;
        final WireGuardBackend backend;
        final Pipeline pipeline;
        private final Netlink netlink;

        private OurNode(Host host, String tunName, PacketPool pool, PacketPool superPackets, WireGuardBackend backend, Pipeline pipeline,
                Netlink netlink) {
            this.host = host;
            this.tunName = tunName;
            this.pool = pool;
            this.superPackets = superPackets;
            this.backend = backend;
            this.pipeline = pipeline;
            this.netlink = netlink;
        }

        /** Pipeline, transport and backend counters together. */
        Counters.Snapshot stats() {
            List<Counters> all = new ArrayList<>(pipeline.counters());
            all.addAll(backend.counters());
            return Counters.Snapshot.of(all);
        }

        /** Stops the packet path and the backend; the TUN goes with its descriptor. Throws if buffers stay out. */
        @Override
        public void close() {
            pipeline.close();
            backend.close();
            netlink.close();
            int out = pool.outstanding() + superPackets.outstanding();
            if (out == 0) {
                pool.close();
                superPackets.close();
            }
            if (out != 0) throw new AssertionError(out + " buffers still out after closing our node on " + host.name());
        }
    }

    /** Buffers of a super-packet from the TUN, with the room to seal it as a train (as the node sizes them). */
    static final int SUPER_PACKET_BUFFER = PacketPool.DEFAULT_HEADROOM + 65536 + 1024 + new WireGuardBackendProvider().superPacketRoom();

    /**
     * Starts our node on {@code host} inside its namespace, as flanneld sets up {@code flannel-wg}:
     * TUN with MTU 1500 - 80, the subnet's network address /32 on it, up, the whole Network routed
     * through it; with offload as the node's default path: TSO super-packets from the TUN sealed
     * into trains (UDP GSO), trains received as one (UDP GRO) into 64 KiB buffers, joined TUN writes.
     */
    OurNode startOurs(Host host, NetConf netConf, WireGuardOptions options) throws IOException {
        Path state = Files.createDirectories(stateRoot.resolve(host.name()));
        OurNode node = host.ns().call(() -> {
            Netlink netlink = Netlink.open();
            PacketPool pool = new PacketPool(4096);
            PacketPool superPackets = new PacketPool(256, SUPER_PACKET_BUFFER, PacketPool.DEFAULT_HEADROOM);
            TunDevice tun = null;
            WireGuardBackend backend = null;
            try {
                tun = TunDevice.open("flannel-wg", TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4)));
                int mtu = 1500 - BackendType.WIREGUARD.overhead();
                netlink.setMtu(tun.name(), mtu);
                netlink.addAddress(tun.name(), host.subnet().address(), 32);
                netlink.setUp(tun.name(), true);
                netlink.replaceRoute(Route.direct(NETWORK, tun.name()));
                BackendContext ctx = new BackendContext(netConf, host.subnet(), host.address(), tun.name(), mtu, superPackets, state);
                // As the node opens it: trains taken up as one, no datagram longer than the underlay's MTU allows.
                backend = WireGuardBackend.open(ctx, options.withTransports((address, port, buffers) -> SocketTransport.udp(
                        UdpTransportConfig.of(address, port).withLargestDatagram(1500 - 28), buffers)));
                Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool)
                        .withTunPool(superPackets));
                return new OurNode(host, tun.name(), pool, superPackets, backend, pipeline, netlink);
            } catch (IOException | RuntimeException e) {
                if (backend != null) backend.close();
                if (tun != null) tun.close();
                netlink.close();
                if (pool.outstanding() == 0) pool.close();
                if (superPackets.outstanding() == 0) superPackets.close();
                throw e;
            }
        });
        owned.add(node);
        return node;
    }

    /** wireguard-go on a host: its interface name (unique: its control socket lives in /var/run/wireguard) and process. */
    record WireGuardGo(Host host, String iface, Process process, Path keyFile, String publicKey) implements AutoCloseable {
        /** {@code wg show IFACE ...} output. */
        String show(String what) throws IOException {
            return Hosts.run(host.exec("wg", "show", iface, what));
        }

        /** Stops wireguard-go by its PID (SIGTERM: it removes its interface and socket), then forcibly if it hangs. */
        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(keyFile);
        }
    }

    /**
     * Starts wireguard-go on {@code host} and configures it with {@code wg} as flanneld configures
     * kernel WireGuard: listen port 51820, the subnet's network address /32 on the interface, the
     * Network routed through it, and {@code peer} (our node) with its subnet as allowed IPs and its
     * endpoint (null: none, it must initiate).
     */
    WireGuardGo startWireGuardGo(Host host, OurNode peer, boolean withEndpoint) throws Exception {
        String iface = Hosts.unique("wgo");
        Prerequisites.programs("wireguard-go", "wg");
        Process p = new ProcessBuilder(host.exec("wireguard-go", "-f", iface)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Leftovers.Hold hold = Leftovers.process(p.toHandle());
        Path keyFile = Files.createTempFile(stateRoot, "wggo", ".key");
        String key = Hosts.run("wg", "genkey").strip();
        Files.writeString(keyFile, key + "\n");
        WireGuardGo go = new WireGuardGo(host, iface, p, keyFile, pubkeyOf(key));
        owned.add(() -> {
            go.close();
            hold.release();
        });
        for (int i = 0; i < 200 && !Hosts.run("ip", "-n", host.name(), "link", "show").contains(iface); i++) Thread.sleep(25);
        List<String> set = new ArrayList<>(List.of("wg", "set", iface, "private-key", keyFile.toString(), "listen-port",
                String.valueOf(PORT), "peer", peer.backend.publicKey().toBase64(), "allowed-ips", peer.host.subnet().toString()));
        if (withEndpoint) {
            set.add("endpoint");
            set.add(peer.host.addressText() + ":" + peer.backend.listenPort());
        }
        Hosts.run(host.exec(set.toArray(String[]::new)));
        Hosts.run("ip", "-n", host.name(), "link", "set", iface, "mtu", String.valueOf(1500 - BackendType.WIREGUARD.overhead()));
        Hosts.run("ip", "-n", host.name(), "addr", "add", Ipv4Address.toString(host.subnet().address()) + "/32", "dev", iface);
        Hosts.run("ip", "-n", host.name(), "link", "set", iface, "up");
        Hosts.run("ip", "-n", host.name(), "route", "add", NETWORK.toString(), "dev", iface);
        return go;
    }

    private static String pubkeyOf(String privateKey) throws IOException {
        Prerequisites.program("wg");
        Process p = new ProcessBuilder("wg", "pubkey").redirectErrorStream(true).start();
        p.getOutputStream().write((privateKey + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("wg pubkey failed: " + out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return out;
    }

    /** A process started in a host's namespace, stopped by its PID at close. */
    Process startProcess(Host host, String... command) throws IOException {
        Prerequisites.programOf(java.util.List.of(host.exec(command)));
        Process p = new ProcessBuilder(host.exec(command)).redirectErrorStream(true).start();
        Leftovers.Hold hold = Leftovers.process(p.toHandle());
        owned.add(() -> {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            hold.release();
        });
        return p;
    }

    /** Closes nodes and stops processes (latest first), deletes the namespaces and the state directories. */
    @Override
    public void close() throws Exception {
        Exception first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception | AssertionError e) {
                Exception ex = e instanceof Exception x ? x : new Exception(e);
                if (first == null) first = ex;
                else first.addSuppressed(ex);
            }
        }
        owned.clear();
        try {
            hosts.close();
        } catch (IOException e) {
            if (first == null) first = e;
            else first.addSuppressed(e);
        }
        Leftovers.deleteTree(stateRoot, stateHold);
        if (first != null) throw first;
    }
}
