package io.dataplane.node.cli;

import io.dataplane.control.etcd.EtcdControlPlane;
import io.dataplane.control.etcd.EtcdOptions;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.SubnetEnv;
import io.dataplane.core.control.LeaseAttrs;
import io.dataplane.core.control.PeerEvents;
import io.dataplane.core.control.SubnetKey;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.node.LocalLease;
import io.dataplane.node.NodeConfig;
import io.dataplane.node.OverlayNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * {@code dataplane node --etcd-endpoints URL}: the node as flanneld runs against etcd.
 *
 * <pre>
 * EtcdControlPlane.network()      &lt;prefix&gt;/config (waits, one line, while there is none that checks)
 *   -> LocalLease.attrs           public IP, backend data from the state directory (VTEP MAC, wgkey)
 *   -> acquire(attrs, subnet.env) our lease in etcd: &lt;prefix&gt;/subnets/10.244.3.0-24, 24 h, renewed
 *   -> OverlayNode.start          TUN up with the subnet
 *   -> subnet.env written         atomically, in flanneld's order, for the CNI plugin
 *   -> watch                      the other leases become the node's peers; lines as they change
 *   -> SIGINT/SIGTERM             node closed; the lease stays in etcd for the restart
 * </pre>
 */
final class EtcdNode {
    private final NodeCommand command;
    private final EtcdFlags flags;

    EtcdNode(NodeCommand command, EtcdFlags flags) {
        this.command = command;
        this.flags = flags;
    }

    int run(PrintWriter out, PrintWriter err) throws Exception {
        EtcdOptions options = flags.options(line -> out.println("etcd: " + line));
        EtcdControlPlane control = EtcdControlPlane.connect(options);
        OverlayNode node = null;
        try {
            out.println("etcd: " + options.endpoints().stream().map(Object::toString).collect(Collectors.joining(",")) + ", network "
                    + options.configKey());
            NetConf net = control.network();
            int ip = command.publicIp();
            NodeConfig probe = command.tuned(NodeConfig.of(net, net.subnetMin(), ip));
            Path stateDir = flags.stateDir != null ? flags.stateDir : probe.effectiveStateDir();
            LeaseAttrs attrs = LocalLease.attrs(net, ip, stateDir);
            Lease lease = control.acquire(attrs, previousSubnet(net, out));
            out.println("etcd: lease " + lease.subnet() + " at " + options.subnetsPrefix() + SubnetKey.of(lease.subnet()) + ", "
                    + options.leaseTtl().toHours() + " h, renewed " + options.renewMargin().toMinutes() + " min before it expires");
            NodeConfig config = command.tuned(NodeConfig.of(net, lease.subnet(), ip)).withStateDir(stateDir);
            node = OverlayNode.start(config);
            LeaseAttrs actual = LeaseAttrs.of(node.localLease());
            if (!actual.equals(attrs)) control.publish(actual);
            SubnetEnv env = new SubnetEnv(net.network(), lease.subnet(), node.tunMtu(), false);
            env.write(flags.subnetFile);
            OverlayNode running = node;
            NodeView.ControlPlane view = new NodeView.ControlPlane() {
                @Override
                public String type() {
                    return "etcd";
                }

                @Override
                public String source() {
                    return options.endpoints().stream().map(Object::toString).collect(Collectors.joining(",")) + " " + options.subnetsPrefix();
                }

                @Override
                public Instant leaseExpiry() {
                    return control.leaseExpiry();
                }
            };
            return command.serve(node, stateDir, view, out, err, r -> {
                r.watch = control;
                // Held (until its expiry, which every renewal moves on) and subnet.env written: what
                // flanneld's readiness means by a lease.
                r.readiness.add("lease", () -> leaseProblem(control.leaseExpiry(), Instant.now()));
                out.println("subnet.env: " + flags.subnetFile + " (FLANNEL_SUBNET=" + Ipv4Address.toString(env.firstAddress()) + "/"
                        + lease.subnet().length() + ", FLANNEL_MTU=" + env.mtu() + ")");
                out.println("lease: " + running.localLease().toFlannelAttrs());
                control.watch(PeerEvents.of(l -> {
                    boolean known = running.peers().stream().anyMatch(p -> p.subnet().equals(l.subnet()));
                    running.addPeer(l);
                    out.println("peers: " + (known ? "updated " : "added ") + describe(l) + " (" + running.peers().size() + " from etcd)");
                }, s -> {
                    if (running.removePeer(s)) out.println("peers: removed " + s + " (" + running.peers().size() + " from etcd)");
                }));
                r.peersLoaded.open();
                if (control.peerCount() == 0) out.println("peers: none yet in etcd (watching " + options.subnetsPrefix() + ")");
            });
        } catch (Exception | Error e) {
            control.close();
            if (node != null) node.close();
            throw e;
        }
    }

    /** subnet.env's subnet from a previous run, if the file is there and fits this network; else null (said why). */
    private Ipv4Prefix previousSubnet(NetConf net, PrintWriter out) {
        Path file = flags.subnetFile;
        if (!Files.exists(file)) return null;
        try {
            SubnetEnv env = SubnetEnv.read(file);
            if (env.network().equals(net.network())) return env.subnet();
            out.println("etcd: " + file + " is of another network (" + env.network() + "); not taking its subnet again");
        } catch (ConfigException e) {
            out.println("etcd: " + e.getMessage() + "; not taking its subnet again");
        }
        return null;
    }

    /** {@code 10.244.2.0/24 at 192.0.2.2}. */
    /**
     * Null while the lease is held: it expires after {@code now}. A lease whose renewals failed
     * until it expired is lost (another node may take the subnet), and the node is not ready until a
     * renewal holds it again.
     */
    static String leaseProblem(Instant expiry, Instant now) {
        if (expiry == null) return "no lease yet";
        return now.isBefore(expiry) ? null : "lease expired at " + expiry + " (renewal failed)";
    }

    private static String describe(Lease lease) {
        return PeersWatch.describe(lease);
    }
}
