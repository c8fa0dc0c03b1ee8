package com.example.agent;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.node.NodeConfig;
import io.dataplane.node.NodeStats;
import io.dataplane.node.OverlayNode;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * An agent that owns its control plane and embeds a Dataplane node, as a Kubernetes agent that
 * reads leases from the API server would. Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN).
 *
 * <pre>
 * java -jar target/agent.jar             makes a network namespace of its own and removes it at the end
 * java -jar target/agent.jar --netns NS  runs in the existing namespace NS and leaves it
 * </pre>
 *
 * In the namespace it puts this node's underlay address 192.0.2.1 and a peer's 192.0.2.2 on the
 * loopback, starts a vxlan node for 10.244.1.0/24, adds the peer's lease, sends one datagram to a
 * pod address behind the peer (the node carries it: egress), removes the peer, sends again (the
 * node drops it: no route) and prints the stats. It exits 0 when the counters say exactly that.
 */
public final class Agent {
    private static final String NET_CONF = """
            {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "MTU": 1500}}""";
    private static final String NODE_IP = "192.0.2.1";
    private static final String PEER_IP = "192.0.2.2";
    private static final String PEER_LEASE = """
            {"Subnet": "10.244.2.0/24", "PublicIP": "192.0.2.2", "BackendType": "vxlan",
             "BackendData": {"VNI": 1, "VtepMAC": "02:00:0a:f4:02:00"}}""";
    private static final InetSocketAddress POD_BEHIND_PEER = new InetSocketAddress("10.244.2.5", 9);

    private Agent() {}

    /** Runs the agent; exit code 0 when the node counted what it was sent. */
    public static void main(String[] args) throws Exception {
        String existing = args.length == 2 && args[0].equals("--netns") ? args[1] : null;
        if (args.length != 0 && existing == null) {
            System.err.println("usage: agent [--netns NAME]");
            System.exit(2);
        }
        String name = existing != null ? existing : "dp-agent-" + ProcessHandle.current().pid();
        NetNamespace netns = existing != null ? NetNamespace.open(name) : NetNamespace.create(name);
        Path stateDir = Files.createTempDirectory("dp-agent-state");
        boolean ok;
        try {
            ok = run(netns, stateDir);
        } finally {
            deleteTree(stateDir);
            if (existing == null) {
                netns.delete();
                System.out.println("agent: deleted network namespace " + name);
            } else {
                netns.close();
            }
        }
        System.exit(ok ? 0 : 1);
    }

    private static boolean run(NetNamespace netns, Path stateDir) throws Exception {
        netns.run(() -> {
            try (Netlink netlink = Netlink.open()) {
                netlink.setUp("lo", true);
                netlink.addAddress("lo", Ipv4Address.parse(NODE_IP), 32);
                netlink.addAddress("lo", Ipv4Address.parse(PEER_IP), 32);
            }
        });
        NodeConfig config = NodeConfig.of(NetConf.parse(NET_CONF), Ipv4Prefix.parse("10.244.1.0/24"), Ipv4Address.parse(NODE_IP))
                .withStateDir(stateDir);
        // Started on the namespace's thread: the TUN, its routes and the socket belong to the namespace.
        OverlayNode node = netns.call(() -> OverlayNode.start(config));
        boolean ok;
        try {
            ok = addSendRemove(node, netns);
        } finally {
            node.close();
        }
        System.out.println("agent: closed the node, " + node.buffersInUse() + " packet buffers out");
        ok &= node.buffersInUse() == 0;
        System.out.println(ok ? "agent: ok" : "agent: FAILED: the counters do not show one datagram carried, then one dropped");
        return ok;
    }

    private static boolean addSendRemove(OverlayNode node, NetNamespace netns) throws Exception {
        System.out.println("agent: started " + node);
        System.out.println("agent: our lease " + node.localLease().toJson());

        Lease peer = Lease.parse(PEER_LEASE);
        node.addPeer(peer);
        System.out.println("agent: added peer " + peer.subnet() + " at " + Ipv4Address.toString(peer.publicIp()));
        netns.run(() -> sendOneDatagram(POD_BEHIND_PEER));
        NodeStats carried = awaitStats(node, s -> s.egressPackets() >= 1);
        System.out.println("agent: stats " + carried);

        boolean removed = node.removePeer(peer.subnet());
        System.out.println("agent: removed peer " + peer.subnet() + ": " + removed);
        netns.run(() -> sendOneDatagram(POD_BEHIND_PEER));
        NodeStats dropped = awaitStats(node, s -> s.dropped(DropReason.NO_ROUTE) >= 1);
        System.out.println("agent: stats " + dropped);

        return removed && carried.egressPackets() >= 1 && dropped.dropped(DropReason.NO_ROUTE) >= 1
                && dropped.egressPackets() == carried.egressPackets() && node.peers().isEmpty();
    }

    /** One UDP datagram from the namespace to {@code to}: the kernel routes it into the node's TUN. */
    private static void sendOneDatagram(InetSocketAddress to) throws IOException {
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.send(ByteBuffer.wrap("hello from the agent".getBytes()), to);
        }
    }

    /** The node's stats once {@code until} holds, or after five seconds as they are. */
    private static NodeStats awaitStats(OverlayNode node, Predicate<NodeStats> until) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        NodeStats stats = node.stats();
        while (!until.test(stats) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            stats = node.stats();
        }
        return stats;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
