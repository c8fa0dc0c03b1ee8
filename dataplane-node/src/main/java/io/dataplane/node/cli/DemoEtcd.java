package io.dataplane.node.cli;

import io.dataplane.control.etcd.EtcdControlPlane;
import io.dataplane.control.etcd.EtcdOptions;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.control.PeerEvents;
import io.dataplane.node.LocalLease;
import io.dataplane.node.OverlayNode;
import io.dataplane.tun.netns.NetNamespace;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dataplane demo --etcd}: a real etcd in a third namespace of the demo, on the bridge that
 * joins the two nodes' underlays, holding the network's config; each node takes its subnet lease
 * there and learns the other's from its watch, as nodes do with {@code --etcd-endpoints}.
 *
 * <pre>
 *  namespace A                    namespace E                    namespace B
 *  veth0 192.0.2.1/24 ======= br0 192.0.2.3/24, etcd :2379 ======= veth0 192.0.2.2/24
 * </pre>
 */
final class DemoEtcd {
    /** etcd's address on the demo's bridge. */
    static final String ADDRESS = "192.0.2.3";
    private static final String PREFIX = EtcdOptions.DEFAULT_PREFIX;

    private final NetNamespace ns;
    private final Teardown teardown;
    private final PrintWriter out;
    private final URI endpoint = URI.create("http://" + ADDRESS + ":2379");
    private final List<EtcdControlPlane> controls = new ArrayList<>();

    private DemoEtcd(NetNamespace ns, Teardown teardown, PrintWriter out) {
        this.ns = ns;
        this.teardown = teardown;
        this.out = out;
    }

    /** True if etcd and etcdctl are installed. */
    static boolean installed() {
        return DemoCommand.onPath("etcd") && DemoCommand.onPath("etcdctl");
    }

    /**
     * Starts etcd in {@code ns} (its bridge already holds {@link #ADDRESS}) with its data under
     * {@code state}, and writes the network's config {@code net} there.
     */
    static DemoEtcd start(NetNamespace ns, Path state, NetConf net, Teardown teardown, PrintWriter out) throws Exception {
        DemoEtcd e = new DemoEtcd(ns, teardown, out);
        String url = e.endpoint.toString();
        String peer = "http://" + ADDRESS + ":2380";
        ChildProcess etcd = teardown.add(() -> ChildProcess.start(List.of("ip", "netns", "exec", ns.name(), "etcd", "--name", "demo",
                "--data-dir", state.resolve("etcd").toString(), "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "demo=" + peer)),
                p -> p.stop() ? "stopped etcd (pid " + p.pid() + ")" : null);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                e.etcdctl("endpoint", "health");
                break;
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline || !etcd.isAlive()) {
                    throw new Problem.Stop("etcd did not start: " + Problem.oneLine(etcd.output()), Dataplane.EXIT_FAILURE);
                }
                Thread.sleep(100);
            }
        }
        // As a person writes it, on one line: flanneld's defaults fill in the rest.
        e.etcdctl("put", PREFIX + "/config", "{\"Network\": \"" + net.network() + "\", \"Backend\": {\"Type\": \""
                + net.backend().type().flannelName() + "\"}}");
        out.println("etcd: " + url + " in " + ns.name() + " (pid " + etcd.pid() + "); wrote " + PREFIX + "/config");
        return e;
    }

    /**
     * The lease of a node at {@code address} of namespace {@code nodeNs}, taken from etcd inside
     * that namespace (the client's sockets belong there); the control plane is closed at cleanup.
     */
    Lease lease(NetNamespace nodeNs, String label, int address, Path stateDir) throws Exception {
        EtcdOptions options = EtcdOptions.of(List.of(endpoint), line -> out.println("etcd (node " + label + "): " + line));
        EtcdControlPlane control = teardown.add(() -> nodeNs.call(() -> EtcdControlPlane.connect(options)), c -> {
            c.close();
            return null;
        });
        controls.add(control);
        return nodeNs.call(() -> {
            NetConf net = control.network();
            return control.acquire(LocalLease.attrs(net, address, stateDir), null);
        });
    }

    /** Streams each node's peers from etcd into it and waits until each has the other. */
    void watch(NetNamespace[] nss, OverlayNode[] nodes) throws Exception {
        for (int i = 0; i < nodes.length; i++) {
            OverlayNode node = nodes[i];
            EtcdControlPlane control = controls.get(i);
            nss[i].call(() -> {
                control.watch(PeerEvents.of(node::addPeer, node::removePeer));
                return null;
            });
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (OverlayNode node : nodes) {
            while (node.peers().isEmpty()) {
                if (System.nanoTime() > deadline) throw new Problem.Stop("a node learned no peer from etcd within 10 s", Dataplane.EXIT_FAILURE);
                Thread.sleep(50);
            }
        }
        out.println("etcd: the keys the nodes wrote (etcdctl get " + PREFIX + " --prefix):");
        String[] lines = etcdctl("get", PREFIX, "--prefix").split("\n");
        for (int i = 0; i + 1 < lines.length; i += 2) out.println("  " + lines[i] + "  " + lines[i + 1]);
    }

    private String etcdctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(), "etcdctl", "--endpoints", endpoint.toString()));
        command.addAll(List.of(args));
        return ChildProcess.run(command);
    }
}
