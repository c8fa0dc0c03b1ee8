package io.dataplane.node.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.node.HostGwBackend;
import io.dataplane.node.NodeStats;
import io.dataplane.node.OverlayNode;
import io.dataplane.ipip.IpipBackend;
import io.dataplane.tun.netlink.Route;
import io.dataplane.vxlan.VxlanBackend;
import io.dataplane.wireguard.WireGuardBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a running node knows, as one JSON document: the answer of its control socket, which
 * {@code dataplane show} prints as text and {@code dataplane show --json} as it is.
 *
 * <pre>
 * node       backend, subnet, network, public IP and interface, TUN and MTU, port, VTEP MAC/VNI or
 *            public key, offload, control plane (and its lease's expiry), state directory, pid, uptime
 * peers      subnet, public IP, VTEP MAC or public key, endpoint; vxlan, udp, ipip: "received" and "sent",
 *            each {"packets", "bytes", "drops", "last"} (ISO time of the last packet, null if none);
 *            WireGuard: latest handshake, transfer
 * routes     the node's routes in the shape of `ip -j route`: {"dst", "gateway", "dev", "scope", "flags": ["onlink"]}
 * neighbors  vxlan's, in the shape of `ip -j neigh`: {"dst", "dev", "lladdr", "state": ["PERMANENT"]}
 * fdb        vxlan's, in the shape of `bridge -j fdb`: {"mac", "ifname", "dst", "flags": ["self"], "state": "permanent"}
 * stats      packets and bytes each way, drops by reason (those that happened), packet buffers, and
 *            "queues": each TUN queue's packets and bytes each way and drops (one entry per queue)
 * </pre>
 *
 * The routes are those the node's packet path looks up (for vxlan, the ones flanneld writes into the
 * kernel for flannel.1), the route of the whole Network through the TUN, and the kernel routes the
 * backend added (host-gw's, DirectRouting's).
 */
final class NodeView {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Where the node's peers come from, for the view's {@code controlPlane}. */
    interface ControlPlane {
        /** {@code files}, {@code etcd}, ... */
        String type();

        /** What it reads: the peers file, the store's endpoints and prefix. */
        String source();

        /** When this node's lease in the store expires; null when there is none (files). */
        Instant leaseExpiry();

        /** The files control plane: leases from {@code peersFile}, no lease of our own to hold. */
        static ControlPlane files(Path peersFile) {
            return new ControlPlane() {
                @Override
                public String type() {
                    return "files";
                }

                @Override
                public String source() {
                    return peersFile.toString();
                }

                @Override
                public Instant leaseExpiry() {
                    return null;
                }
            };
        }
    }

    private NodeView() {}

    /** The document for {@code node} now; {@code startedAt} is when it started, {@code stateDir} where its control socket is. */
    static ObjectNode of(OverlayNode node, ControlPlane controlPlane, Path stateDir, Instant startedAt) {
        Instant now = Instant.now();
        ObjectNode view = JSON.createObjectNode();
        view.set("node", node(node, controlPlane, stateDir, startedAt, now));
        view.set("peers", peers(node));
        view.set("routes", routes(node));
        view.set("neighbors", neighbors(node));
        view.set("fdb", fdb(node));
        view.set("stats", stats(node.stats(), node.queueStats()));
        return view;
    }

    private static ObjectNode node(OverlayNode node, ControlPlane controlPlane, Path stateDir, Instant startedAt, Instant now) {
        ObjectNode o = JSON.createObjectNode();
        o.put("backend", node.backendType().flannelName());
        o.put("subnet", node.config().subnet().toString());
        o.put("network", node.config().netConf().network().toString());
        o.put("publicIp", Ipv4Address.toString(node.config().publicIp()));
        o.put("interface", node.underlayInterface());
        o.put("underlayMtu", node.underlayMtu());
        o.put("tun", node.tunName());
        o.put("mtu", node.tunMtu());
        if (node.port() != 0) o.put("port", node.port());
        switch (node.backend()) {
            case VxlanBackend vxlan -> {
                o.put("vni", vxlan.vtepConfig().vni());
                o.put("vtepMac", vxlan.vtepConfig().vtepMac().toString());
                o.put("directRouting", vxlan.directRouting());
            }
            case WireGuardBackend wireguard -> o.put("publicKey", wireguard.publicKey().toBase64());
            case IpipBackend ipip -> o.put("directRouting", node.config().netConf().backend().directRouting());
            default -> {}
        }
        ObjectNode offload = o.putObject("offload");
        offload.put("tcp", node.offload());
        offload.put("superPacketsSent", node.superPacketsSent());
        offload.put("segmentsJoined", node.segmentsJoined());
        ObjectNode cp = o.putObject("controlPlane");
        cp.put("type", controlPlane.type());
        cp.put("source", controlPlane.source());
        Instant expiry = controlPlane.leaseExpiry();
        cp.put("leaseExpiry", expiry != null ? expiry.toString() : null);
        o.put("stateDir", stateDir.toString());
        o.put("pid", ProcessHandle.current().pid());
        o.put("startedAt", startedAt.toString());
        o.put("uptimeSeconds", Duration.between(startedAt, now).toSeconds());
        return o;
    }

    private static ArrayNode peers(OverlayNode node) {
        Map<Ipv4Prefix, PeerTraffic> traffic = new HashMap<>();
        for (PeerTraffic t : PeerTraffic.of(node)) traffic.put(t.subnet(), t);
        Map<Ipv4Prefix, PeerCounts> counts = new HashMap<>();
        for (PeerCounts c : PeerCounts.of(node)) counts.put(c.subnet(), c);
        ArrayNode out = JSON.createArrayNode();
        List<Lease> leases = new ArrayList<>(node.peers());
        leases.sort(Comparator.comparingLong(l -> l.subnet().address() & 0xffffffffL));
        for (Lease lease : leases) {
            ObjectNode p = out.addObject();
            p.put("subnet", lease.subnet().toString());
            String publicIp = Ipv4Address.toString(lease.publicIp());
            p.put("publicIp", publicIp);
            if (lease.backendType() == BackendType.VXLAN) {
                p.put("vtepMac", lease.vxlan().vtepMac().toString());
                p.put("endpoint", publicIp + ":" + node.port());
            } else if (lease.backendType() == BackendType.WIREGUARD) {
                p.put("publicKey", lease.wireguard().publicKey());
                PeerTraffic t = traffic.get(lease.subnet());
                if (t != null && t.endpointAddress() != 0) {
                    p.put("endpoint", Ipv4Address.toString(t.endpointAddress()) + ":" + t.endpointPort());
                } else {
                    p.put("endpoint", publicIp + ":" + lease.wireguard().port());
                }
                if (t != null) {
                    long ns = t.latestHandshakeEpochNanos();
                    p.put("latestHandshake", ns == 0 ? null : Instant.ofEpochSecond(0, ns).toString());
                    p.put("rxBytes", t.rxBytes());
                    p.put("txBytes", t.txBytes());
                }
            } else {
                // The node's port for a UDP tunnel; the address alone for raw IP (ipip) and host-gw.
                p.put("endpoint", node.port() != 0 ? publicIp + ":" + node.port() : publicIp);
            }
            PeerCounts c = counts.get(lease.subnet());
            if (c != null) {
                direction(p.putObject("received"), c.receivedPackets(), c.receivedBytes(), c.receivedDrops(), c.lastReceivedMillis());
                direction(p.putObject("sent"), c.sentPackets(), c.sentBytes(), c.sentDrops(), c.lastSentMillis());
            }
        }
        return out;
    }

    private static void direction(ObjectNode o, long packets, long bytes, long drops, long lastMillis) {
        o.put("packets", packets);
        o.put("bytes", bytes);
        o.put("drops", drops);
        o.put("last", lastMillis == 0 ? null : Instant.ofEpochMilli(lastMillis).toString());
    }

    private static ArrayNode routes(OverlayNode node) {
        List<Route> routes = new ArrayList<>();
        String tun = node.tunName();
        if (tun != null) routes.add(Route.direct(node.config().netConf().network(), tun));
        BackendType type = node.backendType();
        if (type != BackendType.HOST_GW) {
            for (Map.Entry<Ipv4Prefix, Integer> e : node.backend().routes().snapshot().entrySet()) {
                // WireGuard's table maps a subnet to a peer id: the route is the TUN's, the peer its allowed IPs.
                routes.add(type == BackendType.WIREGUARD ? Route.direct(e.getKey(), tun)
                        : Route.onlink(e.getKey(), node.backend().gateway(e.getValue()), tun));
            }
        }
        switch (node.backend()) {
            case VxlanBackend vxlan -> routes.addAll(vxlan.directRoutes().values());
            case IpipBackend ipip -> routes.addAll(ipip.directRoutes().values());
            case HostGwBackend hostGw -> routes.addAll(hostGw.kernelRoutes().values());
            default -> {}
        }
        routes.sort(Comparator.comparingLong((Route r) -> r.destination().address() & 0xffffffffL)
                .thenComparingInt(r -> r.destination().length()));
        ArrayNode out = JSON.createArrayNode();
        for (Route r : routes) {
            ObjectNode o = out.addObject();
            o.put("dst", r.destination().toString());
            if (r.gateway() != 0) o.put("gateway", Ipv4Address.toString(r.gateway()));
            if (r.device() != null) o.put("dev", r.device());
            if (r.gateway() == 0) o.put("scope", "link"); // as the kernel scopes a route without a gateway
            ArrayNode flags = o.putArray("flags");
            if (r.onlink()) flags.add("onlink");
        }
        return out;
    }

    private static ArrayNode neighbors(OverlayNode node) {
        ArrayNode out = JSON.createArrayNode();
        if (!(node.backend() instanceof VxlanBackend vxlan)) return out;
        List<Map.Entry<Integer, MacAddress>> entries = new ArrayList<>(vxlan.neighbors().snapshot().entrySet());
        entries.sort(Comparator.comparingLong(e -> e.getKey() & 0xffffffffL));
        for (Map.Entry<Integer, MacAddress> e : entries) {
            ObjectNode o = out.addObject();
            o.put("dst", Ipv4Address.toString(e.getKey()));
            o.put("dev", node.tunName());
            o.put("lladdr", e.getValue().toString());
            o.putArray("state").add("PERMANENT");
        }
        return out;
    }

    private static ArrayNode fdb(OverlayNode node) {
        ArrayNode out = JSON.createArrayNode();
        if (!(node.backend() instanceof VxlanBackend vxlan)) return out;
        List<Map.Entry<MacAddress, Integer>> entries = new ArrayList<>(vxlan.fdb().snapshot().entrySet());
        entries.sort(Comparator.comparingLong(e -> e.getKey().value()));
        for (Map.Entry<MacAddress, Integer> e : entries) {
            ObjectNode o = out.addObject();
            o.put("mac", e.getKey().toString());
            o.put("ifname", node.tunName());
            o.put("dst", Ipv4Address.toString(e.getValue()));
            o.putArray("flags").add("self");
            o.put("state", "permanent");
        }
        return out;
    }

    private static ObjectNode stats(NodeStats stats, List<Counters.Snapshot> queues) {
        ObjectNode o = JSON.createObjectNode();
        traffic(o, stats.counters());
        ObjectNode drops = o.putObject("drops");
        for (Map.Entry<DropReason, Long> e : stats.drops().entrySet()) drops.put(StatsLine.reasonName(e.getKey()), e.getValue());
        o.put("buffersInUse", stats.buffersInUse());
        o.put("buffers", stats.buffers());
        ArrayNode each = o.putArray("queues");
        for (Counters.Snapshot q : queues) traffic(each.addObject(), q).put("drops", q.droppedTotal());
        return o;
    }

    // {"egress": {"packets", "bytes"}, "ingress": {"packets", "bytes"}} into o.
    private static ObjectNode traffic(ObjectNode o, Counters.Snapshot counters) {
        ObjectNode egress = o.putObject("egress");
        egress.put("packets", counters.egressPackets());
        egress.put("bytes", counters.egressBytes());
        ObjectNode ingress = o.putObject("ingress");
        ingress.put("packets", counters.ingressPackets());
        ingress.put("bytes", counters.ingressBytes());
        return o;
    }
}
