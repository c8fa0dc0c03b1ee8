package io.dataplane.bench;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.node.NodeConfig;
import io.dataplane.node.OverlayNode;
import io.dataplane.node.PacketPathOptions;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.wireguard.TransportCipher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * One {@link OverlayNode} for the end-to-end benchmark ({@code benchmarks/e2e.sh}): starts a node,
 * optionally inside a named network namespace, adds the peers given, prints its own lease and
 * {@code ready}, and runs until SIGTERM or SIGINT; then closes the node from a shutdown hook and
 * prints its counters. Users run {@code ./dataplane node} (flannel's files, peers.json watched,
 * stats, metrics); this stays for the benchmark because it takes everything on the command line
 * and exposes the packet path's knobs ({@link io.dataplane.node.PacketPathOptions}) for
 * experiments. Both start the same {@link OverlayNode} with the same defaults.
 *
 * <pre>
 * NodeMain --backend vxlan|udp|ipip|host-gw|wireguard --subnet 10.244.1.0/24 --public-ip 192.0.2.1
 *          [--netns NAME] [--network 10.244.0.0/16] [--tun NAME] [--vtep-mac MAC] [--state-dir DIR]
 *          [--peer LEASE_JSON]... [--tun-batch N] [--tun-ring N] [--transport-batch N] [--transport-ring N]
 *          [--tun-writer thread|receive_thread|single_thread] [--busy-poll-us N] [--offload on|off] [--socket thread|direct] [--tun-queue N]
 *          [--wg-cipher SEGMENT|JDK|BY_SIZE|VECTOR]
 * </pre>
 *
 * <p>wireguard: the private key is {@code STATE_DIR/wgkey} (created when missing; a script may put
 * one there first with {@code wg genkey}, so that it knows the public key for the other node's
 * {@code --peer} lease); the lease line shows the public key and port.
 */
public final class NodeMain {
    private NodeMain() {}

    /** Runs a node; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        String backend = null;
        String netns = null;
        String network = "10.244.0.0/16";
        Ipv4Prefix subnet = null;
        int publicIp = 0;
        String tun = null;
        MacAddress vtepMac = null;
        Path stateDir = null;
        List<Lease> peers = new ArrayList<>();
        PacketPathOptions packetPath = PacketPathOptions.defaults();
        TransportCipher wgCipher = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) usage("missing value after " + args[i]);
            switch (args[i++]) {
                case "--backend" -> backend = value;
                case "--netns" -> netns = value;
                case "--network" -> network = value;
                case "--subnet" -> subnet = Ipv4Prefix.parse(value);
                case "--public-ip" -> publicIp = Ipv4Address.parse(value);
                case "--tun" -> tun = value;
                case "--vtep-mac" -> vtepMac = MacAddress.parse(value);
                case "--state-dir" -> stateDir = Path.of(value);
                case "--peer" -> peers.add(Lease.parse(value));
                case "--tun-batch" -> packetPath = packetPath.withTunBatch(Integer.parseInt(value));
                case "--tun-ring" -> packetPath = packetPath.withTunRing(Integer.parseInt(value));
                case "--transport-batch" -> packetPath = packetPath.withTransportBatch(Integer.parseInt(value));
                case "--transport-ring" -> packetPath = packetPath.withTransportRing(Integer.parseInt(value));
                case "--tun-queue" -> packetPath = packetPath.withTunQueueLength(Integer.parseInt(value));
                case "--socket" -> packetPath = packetPath.withSocket(PacketPathOptions.SocketDriver.valueOf(value.toUpperCase(Locale.ROOT)));
                case "--wg-cipher" -> wgCipher = TransportCipher.valueOf(value.toUpperCase(Locale.ROOT));
                case "--tun-writer" -> packetPath = packetPath.withTunWriter(Pipeline.TunWriter.valueOf(value.toUpperCase(Locale.ROOT)));
                case "--busy-poll-us" -> packetPath = packetPath.withBusyPollMicros(Integer.parseInt(value));
                case "--offload" -> packetPath = packetPath.withOffload(onOff(value));
                default -> usage("unknown option " + args[i - 1]);
            }
        }
        if (backend == null || subnet == null || publicIp == 0) usage("--backend, --subnet and --public-ip are required");
        NetConf net = NetConf.parse("{\"Network\": \"" + network + "\", \"Backend\": {\"Type\": \"" + backend + "\"}}");
        NodeConfig config = NodeConfig.of(net, subnet, publicIp).withTunName(tun).withVtepMac(vtepMac).withStateDir(stateDir)
                .withPacketPath(packetPath).withWireguardCipher(wgCipher);

        OverlayNode node;
        if (netns != null) {
            try (NetNamespace ns = NetNamespace.open(netns)) {
                node = ns.call(() -> OverlayNode.start(config));
            }
        } else {
            node = OverlayNode.start(config);
        }
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            System.out.println("stats " + node.stats());
            System.out.println("closed buffersInUse=" + node.buffersInUse());
            System.out.flush();
            closed.countDown();
        }, "node-shutdown"));
        for (Lease peer : peers) node.addPeer(peer);
        System.out.println("lease " + node.localLease().toJson());
        System.out.println("ready " + node);
        System.out.flush();
        closed.await(); // until SIGTERM or SIGINT runs the hook
    }

    private static boolean onOff(String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("--offload is on or off: " + value);
        };
    }

    private static void usage(String problem) {
        System.err.println("NodeMain: " + problem);
        System.err.println("usage: NodeMain --backend vxlan|udp|ipip|host-gw|wireguard --subnet CIDR --public-ip IP [--netns NAME] [--network CIDR] [--tun NAME]"
                + " [--vtep-mac MAC] [--state-dir DIR] [--peer LEASE_JSON]... [--tun-batch N] [--tun-ring N] [--transport-batch N]"
                + " [--transport-ring N] [--tun-writer thread|receive_thread|single_thread] [--busy-poll-us N] [--offload on|off] [--socket thread|direct] [--tun-queue N] [--wg-cipher SEGMENT|JDK|BY_SIZE|VECTOR]");
        System.exit(2);
    }
}
