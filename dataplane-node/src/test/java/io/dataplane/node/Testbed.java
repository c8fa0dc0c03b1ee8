package io.dataplane.node;

import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.Leftovers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The hosts of a node integration test: network namespaces with unique names on one underlay
 * (192.0.2.0/24; two hosts over a veth pair, more over a bridge in a namespace of its own), each
 * with its pod address on {@code lo} (10.244.N.1/32 for subnet 10.244.N.0/24), our nodes started
 * inside them, and the tools' processes. {@link #close} stops and removes all of it, in reverse
 * order, also after a failure; processes are stopped by their own PID. All of it is held in
 * {@link Leftovers} meanwhile, which removes it if the JVM ends or is killed before {@link #close}.
 */
final class Testbed implements AutoCloseable {
    /** The overlay every test uses. */
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");

    /** One host: its namespace, underlay interface and address, and the subnet and pod address of its node. */
    record Host(NetNamespace ns, String underlay, int address, Ipv4Prefix subnet, int pod) {
        /** The namespace's name (for {@code ip netns exec}). */
        String name() {
            return ns.name();
        }

        /** The pod address as text. */
        String podText() {
            return Ipv4Address.toString(pod);
        }

        /** The underlay address as text. */
        String addressText() {
            return Ipv4Address.toString(address);
        }

        /** The VTEP address flannel gives {@code flannel.1}: the subnet's network address. */
        int vtep() {
            return subnet.address();
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

    private Testbed() throws IOException {
        this.stateRoot = Files.createTempDirectory("dpnode");
        this.stateHold = Leftovers.path(stateRoot);
    }

    /**
     * {@code count} hosts on 192.0.2.0/24: host i (from 1) has address 192.0.2.i on its underlay
     * interface, subnet 10.244.i.0/24 and pod address 10.244.i.1 on lo. Two hosts share a veth
     * pair; more hang off a bridge in a switch namespace. The veths keep the kernel's default
     * offloads, as on any machine: TCP and UDP checksums of what the kernel sends across them stay
     * partial on the wire ({@link #txChecksumOff} for a test that reads them there).
     */
    static Testbed hosts(int count) throws IOException {
        Hosts.assumeRoot();
        Testbed t = new Testbed();
        try {
            t.build(count);
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

    /**
     * Three hosts on two underlay subnets joined by a router: hosts 1 and 2 on 192.0.2.0/24 (a
     * bridge in the router's namespace, which has 192.0.2.254), host 3 on 198.51.100.0/24 as
     * 198.51.100.3 (a veth to the router's 198.51.100.254). The router forwards (ip_forward on in its
     * namespace only); each host routes the other subnet via the router. Subnets and pod addresses
     * as in {@link #hosts}.
     */
    static Testbed twoSubnets() throws IOException {
        Hosts.assumeRoot();
        Testbed t = new Testbed();
        try {
            t.buildTwoSubnets();
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

    private void buildTwoSubnets() throws IOException {
        String underlay = "veth0";
        NetNamespace router = hosts.namespace("dprt");
        String[] r = {"ip", "-n", router.name()};
        run(r, "link", "add", "br0", "type", "bridge");
        run(r, "addr", "add", "192.0.2.254/24", "dev", "br0");
        run(r, "link", "set", "br0", "up");
        Hosts.run("ip", "netns", "exec", router.name(), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        String[] addresses = {"192.0.2.1", "192.0.2.2", "198.51.100.3"};
        for (int i = 1; i <= 3; i++) {
            NetNamespace ns = hosts.namespace("dpn" + i);
            String port = "p" + i;
            run(r, "link", "add", port, "type", "veth", "peer", "name", underlay, "netns", ns.name());
            if (i < 3) {
                run(r, "link", "set", port, "master", "br0", "up");
            } else {
                run(r, "addr", "add", "198.51.100.254/24", "dev", port);
                run(r, "link", "set", port, "up");
            }
            int address = Ipv4Address.parse(addresses[i - 1]);
            Ipv4Prefix subnet = Ipv4Prefix.parse("10.244." + i + ".0/24");
            int pod = subnet.address() + 1;
            String[] h = {"ip", "-n", ns.name()};
            run(h, "addr", "add", Ipv4Address.toString(address) + "/24", "dev", underlay);
            run(h, "link", "set", underlay, "up");
            run(h, "addr", "add", Ipv4Address.toString(pod) + "/32", "dev", "lo");
            if (i < 3) {
                run(h, "route", "add", "198.51.100.0/24", "via", "192.0.2.254");
            } else {
                run(h, "route", "add", "192.0.2.0/24", "via", "198.51.100.254");
            }
            list.add(new Host(ns, underlay, address, subnet, pod));
        }
    }

    private void build(int count) throws IOException {
        List<NetNamespace> nss = new ArrayList<>();
        for (int i = 1; i <= count; i++) nss.add(hosts.namespace("dpn" + i));
        String underlay = "veth0";
        if (count == 2) {
            Hosts.run("ip", "-n", nss.get(0).name(), "link", "add", underlay, "type", "veth", "peer", "name", underlay, "netns",
                    nss.get(1).name());
        } else {
            NetNamespace sw = hosts.namespace("dpsw");
            Hosts.run("ip", "-n", sw.name(), "link", "add", "br0", "type", "bridge");
            Hosts.run("ip", "-n", sw.name(), "link", "set", "br0", "up");
            for (int i = 0; i < count; i++) {
                String port = "p" + (i + 1);
                Hosts.run("ip", "-n", sw.name(), "link", "add", port, "type", "veth", "peer", "name", underlay, "netns",
                        nss.get(i).name());
                Hosts.run("ip", "-n", sw.name(), "link", "set", port, "master", "br0", "up");
            }
        }
        for (int i = 1; i <= count; i++) {
            NetNamespace ns = nss.get(i - 1);
            int address = Ipv4Address.parse("192.0.2." + i);
            Ipv4Prefix subnet = Ipv4Prefix.parse("10.244." + i + ".0/24");
            int pod = subnet.address() + 1;
            Hosts.run("ip", "-n", ns.name(), "addr", "add", Ipv4Address.toString(address) + "/24", "dev", underlay);
            Hosts.run("ip", "-n", ns.name(), "link", "set", underlay, "up");
            Hosts.run("ip", "-n", ns.name(), "addr", "add", Ipv4Address.toString(pod) + "/32", "dev", "lo");
            list.add(new Host(ns, underlay, address, subnet, pod));
        }
    }

    /**
     * Turns transmit checksum offload off on every host's underlay interface ({@code ethtool -K
     * veth0 tx off}), so that the kernel completes the checksums of what it sends and a capture on
     * the underlay reads the real ones; for the tests that check them with tshark, a second case
     * beside the default one.
     */
    Testbed txChecksumOff() throws IOException {
        for (Host h : list) Hosts.run("ip", "netns", "exec", h.name(), "ethtool", "-K", h.underlay(), "tx", "off");
        return this;
    }

    /** The MTU of the link {@code name} in {@code host}'s namespace ({@code ip -j link show}). */
    static int linkMtu(Host host, String name) throws IOException {
        return Hosts.json("ip", "-j", "-n", host.name(), "link", "show", name).get(0).get("mtu").asInt();
    }

    /** Host {@code i}, from 1. */
    Host host(int i) {
        return list.get(i - 1);
    }

    /** A node config for {@code host} in {@code netConf}, with a state directory of this test. */
    NodeConfig config(Host host, NetConf netConf) {
        return NodeConfig.of(netConf, host.subnet(), host.address()).withStateDir(stateRoot.resolve(host.name()));
    }

    /** Starts our node on {@code host} (inside its namespace) with {@code config}; closed with the testbed. */
    OverlayNode start(Host host, NodeConfig config) throws IOException {
        OverlayNode node = host.ns().call(() -> OverlayNode.start(config));
        owned.add(node);
        // The keys this node holds, for SecretLeakCheck: they may never show in any output.
        Path keyFile = config.effectiveStateDir().resolve("wgkey");
        if (Files.exists(keyFile)) SecretLeakCheck.secret(Files.readString(keyFile));
        if (config.netConf().backend().psk() != null) SecretLeakCheck.secret(config.netConf().backend().psk());
        return node;
    }

    /** Starts our node on {@code host} with {@link #config} changed by {@code change}. */
    OverlayNode start(Host host, NetConf netConf, UnaryOperator<NodeConfig> change) throws IOException {
        return start(host, change.apply(config(host, netConf)));
    }

    /**
     * Sets up the kernel's VXLAN device on {@code host} exactly as flanneld sets up {@code flannel.1}
     * (the commands of shared/testdata/README.md), VNI 1, port 8472; returns its VTEP MAC.
     */
    MacAddress kernelVxlan(Host host) throws IOException {
        String[] ip = {"ip", "-n", host.name()};
        run(ip, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", host.addressText(), "dev", host.underlay(),
                "dstport", "8472", "nolearning");
        run(ip, "link", "set", "flannel.1", "mtu", "1450", "up");
        run(ip, "addr", "add", Ipv4Address.toString(host.vtep()) + "/32", "dev", "flannel.1");
        String mac = Hosts.json("ip", "-j", "-n", host.name(), "link", "show", "dev", "flannel.1").get(0).get("address").asText();
        return MacAddress.parse(mac);
    }

    /** What flanneld programs into {@code host}'s flannel.1 for a peer: neighbor, FDB entry, onlink route. */
    void kernelVxlanPeer(Host host, Host peer, MacAddress peerMac) throws IOException {
        String vtep = Ipv4Address.toString(peer.vtep());
        run(new String[] {"ip", "-n", host.name()}, "neigh", "add", vtep, "lladdr", peerMac.toString(), "dev", "flannel.1", "nud",
                "permanent");
        Hosts.run("bridge", "-n", host.name(), "fdb", "append", peerMac.toString(), "dev", "flannel.1", "dst", peer.addressText());
        run(new String[] {"ip", "-n", host.name()}, "route", "add", peer.subnet().toString(), "via", vtep, "dev", "flannel.1",
                "onlink");
    }

    private static void run(String[] prefix, String... args) throws IOException {
        String[] full = new String[prefix.length + args.length];
        System.arraycopy(prefix, 0, full, 0, prefix.length);
        System.arraycopy(args, 0, full, prefix.length, args.length);
        Hosts.run(full);
    }

    /** Takes {@code tool} over: stopped by its PID at close, with the others (held in {@link Leftovers} until then). */
    Tool own(Tool tool) {
        Leftovers.Hold hold = Leftovers.process(tool.handle());
        owned.add(() -> {
            tool.close();
            hold.release();
        });
        return tool;
    }

    /** Starts {@code command} in {@code host}'s namespace; stopped by its PID at close. */
    Tool startTool(Host host, String... command) throws IOException {
        return own(Tool.start(host.exec(command)));
    }

    /**
     * Closes the nodes and stops the tools (latest first), then deletes the namespaces (their
     * devices go with them) and the state directories.
     */
    @Override
    public void close() throws Exception {
        Exception first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
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
