package io.dataplane.vxlan;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.VxlanLeaseData;
import io.dataplane.core.spi.PeerBackend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Peers;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.table.Fdb;
import io.dataplane.core.table.NeighborTable;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.netlink.PeerRoutes;
import io.dataplane.tun.netlink.Route;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * flannel's {@code vxlan} backend with a userspace VTEP in place of the kernel's {@code flannel.1}:
 * the same leases in, the same tables, the same bytes on the wire.
 *
 * <p>For each peer lease ({@code Subnet 10.244.2.0/24, PublicIP 192.0.2.2, VtepMAC 22:e8:...}) it
 * programs what flanneld's {@code handleSubnetEvents} programs into the kernel, in the same order:
 * <pre>
 *   FDB        22:e8:35:88:1e:9a -&gt; 192.0.2.2              bridge fdb append ... dev flannel.1 dst 192.0.2.2
 *   neighbor   10.244.2.0 -&gt; 22:e8:35:88:1e:9a             ip neigh replace 10.244.2.0 lladdr ... nud permanent
 *   route      10.244.2.0/24 via 10.244.2.0 (the gateway)   ip route replace 10.244.2.0/24 via 10.244.2.0 onlink
 * </pre>
 * and {@link VxlanEncapsulation} resolves every packet through them. Each FDB entry carries the
 * id of its VTEP's {@link PeerEntry}, on which the packet path counts that peer's traffic. The route is added last so
 * that no packet is routed before its neighbor and FDB entries are there; removal goes the other
 * way round (route first), so a removed peer's packets stop at the route lookup ({@code NO_ROUTE}).
 *
 * <p><b>Updates.</b> A lease for a subnet we already have replaces the entries without a window:
 * a new public IP is one atomic FDB replace; a new VTEP MAC gets its FDB entry first, then the
 * neighbor entry switches to it atomically, then the old MAC's entry goes. Every packet after a
 * switch goes to the new endpoint; none is dropped on the way and none goes to the old endpoint
 * once {@link #addPeer} has returned.
 *
 * <p><b>Leases we refuse</b> ({@link IllegalArgumentException} naming the field and value): another
 * backend type; a VNI other than ours (flanneld does not compare them, but a peer on another VNI
 * would drop all we send); our own subnet, or one overlapping ours or another peer's, or outside the
 * network; our own public IP or VTEP MAC; a VTEP MAC another peer already has at another public IP
 * (the FDB holds one endpoint per MAC). Our own lease comes back from a lease watch; the caller
 * skips it by comparing with {@link #localLease()}.
 *
 * <p><b>Socket.</b> The transport binds our public IP and the VXLAN port. flannel.1's kernel socket
 * listens on every address; we bind the public IP because it is where peers send to (the FDB entries
 * they hold for us name it), because it makes our datagrams leave from that address (peers that
 * check the source, as we do, expect it), and because it leaves the port free on other addresses.
 * The public IP must therefore be an address of this host (not a NAT's).
 *
 * <p><b>DirectRouting.</b> With {@code "DirectRouting": true} a peer whose public IP the kernel
 * reaches without a gateway (flanneld's {@code ip.DirectRouting}) gets, in place of our route, a
 * kernel route {@code 10.244.2.0/24 via 192.0.2.2} ({@link PeerRoutes}, flanneld's {@code
 * directRoute}): more specific than the node's route of the whole network into the TUN, it takes
 * the peer's packets past the VTEP, unencapsulated. Its FDB and neighbor entries stay, unused by
 * any route, so that its VXLAN datagrams are still taken if it tunnels to us (each end judges
 * "same link" for itself; flanneld's kernel VTEP takes datagrams from anyone). Each lease is judged
 * when it is added, as flanneld judges each lease event; an update that moves the peer onto or off
 * our link switches between our route and the kernel's, the new one in place before the old goes.
 * A kernel that refuses the route makes {@link #addPeer} throw {@link UncheckedIOException}.
 *
 * <p><b>Not supported:</b> {@code GBP} and {@code Learning}, refused at {@link #open}.
 */
public final class VxlanBackend extends PeerBackend<VxlanBackend.Peer> {
    private static final Logger LOG = System.getLogger(VxlanBackend.class.getName());

    private final BackendContext context;
    private final VtepConfig vtep;
    private final NeighborTable neighbors = new NeighborTable();
    private final Fdb fdb = new Fdb();
    private final RouteTable routes = new RouteTable();
    private final PeerEntries entries = new PeerEntries();
    private final VxlanEncapsulation encapsulation;
    private final PeerRoutes directRoutes;
    private final Map<Long, Integer> macUsers = new HashMap<>(); // guarded by this
    private final Map<Long, PeerEntry> macEntries = new HashMap<>(); // guarded by this: one per peer VTEP, its FDB entry's tag

    /** One peer as programmed: its lease, the values the tables hold for it, and whether the kernel routes it. */
    record Peer(Lease lease, long vtepMac, int publicIp, boolean direct) {
        int gateway() {
            return lease.subnet().address();
        }
    }

    private final TransportFactory transports;

    private VxlanBackend(BackendContext context, VtepConfig vtep, Transport transport, PeerRoutes directRoutes, TransportFactory transports) {
        super(Peers.of(BackendType.VXLAN, context), transport);
        this.transports = transports;
        this.context = context;
        this.vtep = vtep;
        this.encapsulation = new VxlanEncapsulation(vtep, neighbors, fdb, entries);
        this.directRoutes = directRoutes;
    }

    /** {@link #open(BackendContext, VxlanOptions)} with {@link VxlanOptions#defaults()}. */
    public static VxlanBackend open(BackendContext context) throws IOException {
        return open(context, VxlanOptions.defaults());
    }

    /**
     * Opens a VTEP for this node: VNI and port from {@code context.netConf().backend()}, the VTEP
     * address from our subnet, the inner MTU from {@code context.tunMtu()}, the VTEP MAC from the
     * options or the state directory, a transport bound to our public IP and the VXLAN port, and
     * with DirectRouting an rtnetlink socket for the direct routes (in the calling thread's namespace).
     *
     * @throws ConfigException when the backend configuration asks for what this VTEP does not do
     *     (GBP, Learning) or is not vxlan
     * @throws IllegalArgumentException when the context does not fit (pool headroom below 22 bytes,
     *     buffers too small for the TUN MTU, a TUN MTU below 68), naming the value
     * @throws IOException when the VTEP MAC file is unreadable or the socket cannot be bound
     */
    public static VxlanBackend open(BackendContext context, VxlanOptions options) throws IOException {
        BackendConf conf = context.netConf().backend();
        if (conf.type() != BackendType.VXLAN) throw new ConfigException(null, "Backend.Type", "not vxlan: " + conf.type());
        if (conf.gbp()) throw unsupported("GBP", "true");
        if (conf.learning()) throw unsupported("Learning", "true");
        checkPool(context.pool(), context.tunMtu());
        MacAddress mac = options.vtepMac() != null ? options.vtepMac() : VtepMacFile.loadOrCreate(context.stateDir(), new SecureRandom());
        VtepConfig vtep = new VtepConfig(conf.vni(), mac, context.subnet().address(), conf.port(), context.tunMtu(),
                options.acceptUnknownPeers());
        PeerRoutes direct = conf.directRouting() ? PeerRoutes.open(PeerRoutes.Style.VIA_GATEWAY) : null;
        Transport transport;
        try {
            transport = options.transports().open(context.publicIp(), conf.port(), context.pool());
        } catch (IOException | RuntimeException e) {
            if (direct != null) direct.close();
            throw e;
        }
        LOG.log(Level.DEBUG, () -> "VXLAN VTEP " + vtep + " on " + Ipv4Address.toString(context.publicIp()) + ":" + conf.port()
                + (direct != null ? " with DirectRouting" : ""));
        return new VxlanBackend(context, vtep, transport, direct, options.transports());
    }

    private static ConfigException unsupported(String field, String value) {
        return new ConfigException(null, "Backend." + field, "not supported by the userspace VXLAN VTEP: " + value);
    }

    private static void checkPool(PacketPool pool, int tunMtu) {
        // A full-size datagram (VXLAN header, inner Ethernet, an MTU-sized packet) is received at the headroom.
        Peers.checkPool(pool, "VXLAN", VtepConfig.ENCAP_HEADER_LEN, tunMtu, VtepConfig.ENCAP_HEADER_LEN, "");
    }

    /** Our lease: our subnet and public IP, BackendData {@code {"VNI": ..., "VtepMAC": ...}}. */
    @Override
    public Lease localLease() {
        return Lease.vxlan(context.subnet(), context.publicIp(), new VxlanLeaseData(vtep.vni(), vtep.vtepMac()));
    }

    /** The VTEP's settings (VNI, MAC, address, port, inner MTU). */
    public VtepConfig vtepConfig() {
        return vtep;
    }

    @Override
    public Encapsulation encapsulation() {
        return encapsulation;
    }

    /**
     * A further packet path over the same neighbor, FDB and route tables: a VTEP encapsulation of its
     * own on a lane of the peers' counters, and a socket on our public IP and the VXLAN port opened
     * as the first (the node opens the sockets of one port as a group).
     */
    @Override
    public Lane openLane(PacketPool pool) throws IOException {
        checkPool(pool, context.tunMtu());
        Transport transport = openLaneTransport(transports, context.publicIp(), pool);
        return new Lane(new VxlanEncapsulation(vtep, neighbors, fdb, entries.addLane()), transport);
    }

    /** Peer subnet -&gt; gateway (the subnet's network address), as flannel.1's routes; directly routed peers are not here. */
    @Override
    public RouteTable routes() {
        return routes;
    }

    /** True when this backend runs with DirectRouting. */
    public boolean directRouting() {
        return directRoutes != null;
    }

    /** DirectRouting's routes written again; none without DirectRouting. */
    @Override
    public List<String> restoreKernelRoutes() {
        return directRoutes == null ? List.of() : directRoutes.restore();
    }

    /** The kernel routes of the directly routed peers, by subnet (empty without DirectRouting). */
    public Map<Ipv4Prefix, Route> directRoutes() {
        return directRoutes == null ? Map.of() : directRoutes.routes();
    }

    /**
     * The entry of the VTEP of the peer with this subnet (subnets of one VTEP share it): its FDB
     * entry's tag, on which the packet path counts the VTEP's traffic.
     */
    @Override
    public synchronized PeerEntry peerEntry(Ipv4Prefix subnet) {
        Peers.Peer<Peer> peer = peers.get(subnet);
        return peer == null ? null : macEntries.get(peer.state().vtepMac());
    }

    /** Gateway -&gt; peer VTEP MAC, for inspection; change it through {@link #addPeer} and {@link #removePeer}. */
    public NeighborTable neighbors() {
        return neighbors;
    }

    /** Peer VTEP MAC -&gt; public IP, for inspection; change it through {@link #addPeer} and {@link #removePeer}. */
    public Fdb fdb() {
        return fdb;
    }

    /**
     * Adds the FDB, neighbor and route entries of a peer, or replaces those of the peer with the same
     * subnet (see the class comment for the order and why no packet goes astray); with DirectRouting
     * and the peer on our link, the route is the kernel's.
     *
     * @throws UncheckedIOException when the kernel refuses a direct route (the peer is left as it was)
     */
    @Override
    protected void add(Lease lease) {
        Peer peer = check(lease);
        Peers.Peer<Peer> had = peers.get(lease.subnet());
        Peer old = had == null ? null : had.state();
        if (old == null) {
            useMac(peer);
            neighbors.add(peer.gateway(), new MacAddress(peer.vtepMac()));
            try {
                route(peer, null);
            } catch (RuntimeException e) {
                neighbors.remove(peer.gateway());
                releaseMac(peer);
                throw e;
            }
        } else if (old.direct() != peer.direct() || (peer.direct() && old.publicIp() != peer.publicIp())) {
            // Whichever way the subnet goes next is complete before it takes the packets: our route
            // after the entries it resolves through, the kernel's before they change.
            if (!peer.direct()) updateEntries(old, peer);
            route(peer, old);
            if (peer.direct()) updateEntries(old, peer);
        } else {
            updateEntries(old, peer);
        }
        peers.put(lease, peer);
        LOG.log(Level.DEBUG, () -> (old == null ? "added " : "updated ") + describe(peer));
    }

    /** Moves the FDB and neighbor entries of {@code old} to those of {@code peer} (same subnet). */
    private void updateEntries(Peer old, Peer peer) {
        if (old.vtepMac() == peer.vtepMac()) {
            // Same MAC: the FDB replace moves every packet to the new public IP at once.
            if (old.publicIp() != peer.publicIp()) {
                PeerEntry entry = macEntries.get(peer.vtepMac());
                entry.setEndpoint(peer.publicIp());
                fdb.add(new MacAddress(peer.vtepMac()), peer.publicIp(), entry.id());
            }
        } else {
            useMac(peer);
            neighbors.add(peer.gateway(), new MacAddress(peer.vtepMac()));
            releaseMac(old);
        }
    }

    /**
     * Routes {@code peer}'s subnet the way it is to go, our route or the kernel's, then takes away
     * {@code old}'s way (null: none) if that was the other one.
     */
    private void route(Peer peer, Peer old) {
        Ipv4Prefix subnet = peer.lease().subnet();
        if (directRoutes != null) {
            directRoutes.steer(subnet, peer.publicIp(), peer.direct(), old == null ? null : old.direct(), routes, peer.gateway());
        } else {
            routes.add(subnet, peer.gateway());
        }
    }

    /** Removes the route, neighbor and FDB entries of the peer, in that order. */
    @Override
    protected void remove(Peers.Peer<Peer> removed) {
        Peer peer = removed.state();
        if (peer.direct()) {
            directRoutes.withdraw(removed.subnet());
        } else {
            routes.remove(removed.subnet());
        }
        neighbors.remove(peer.gateway());
        releaseMac(peer);
        LOG.log(Level.DEBUG, () -> "removed " + describe(peer));
    }

    /**
     * Closes the transport and deletes the kernel routes of directly routed peers. The tables stay as
     * they are (they are the backend's own, nobody else's).
     */
    @Override
    protected void release() {
        super.release();
        if (directRoutes != null) directRoutes.close();
    }

    private void useMac(Peer peer) {
        macUsers.merge(peer.vtepMac(), 1, Integer::sum);
        PeerEntry entry = macEntries.computeIfAbsent(peer.vtepMac(), mac -> entries.add(null, peer.publicIp()));
        entry.setEndpoint(peer.publicIp());
        fdb.add(new MacAddress(peer.vtepMac()), peer.publicIp(), entry.id());
    }

    private void releaseMac(Peer peer) {
        int left = macUsers.merge(peer.vtepMac(), -1, Integer::sum);
        if (left == 0) {
            macUsers.remove(peer.vtepMac());
            fdb.remove(new MacAddress(peer.vtepMac()));
            entries.remove(macEntries.remove(peer.vtepMac()));
        }
    }

    /** The peer a lease describes, or an IllegalArgumentException naming what does not fit. */
    private Peer check(Lease lease) {
        peers.check(lease);
        Ipv4Prefix subnet = lease.subnet();
        String of = " (lease of " + subnet + ")";
        VxlanLeaseData data = lease.vxlan();
        if (data.vni() != vtep.vni()) {
            throw new IllegalArgumentException("lease on another VNI: BackendData.VNI=" + data.vni() + ", ours is " + vtep.vni() + of);
        }
        if (data.vtepMac().equals(vtep.vtepMac())) {
            throw new IllegalArgumentException("lease with our own VTEP MAC: BackendData.VtepMAC=" + data.vtepMac() + of);
        }
        long mac = data.vtepMac().value();
        for (Peers.Peer<Peer> entry : peers.all()) {
            Peer p = entry.state();
            Ipv4Prefix other = entry.subnet();
            if (!other.equals(subnet) && p.vtepMac() == mac && p.publicIp() != lease.publicIp()) {
                throw new IllegalArgumentException("lease with a VTEP MAC peer " + other + " has at " + Ipv4Address.toString(p.publicIp())
                        + ": BackendData.VtepMAC=" + data.vtepMac() + " at PublicIP=" + Ipv4Address.toString(lease.publicIp())
                        + " (the FDB holds one endpoint per MAC)");
            }
        }
        return new Peer(lease, mac, lease.publicIp(), directRoutes != null && directRoutes.reachesDirectly(lease.publicIp()));
    }

    private static String describe(Peer p) {
        return "peer " + p.lease().subnet() + " at " + Ipv4Address.toString(p.publicIp()) + " VTEP " + new MacAddress(p.vtepMac())
                + (p.direct() ? " (direct route)" : "");
    }

    @Override
    public String toString() {
        return "VxlanBackend[" + vtep + (directRoutes != null ? " DirectRouting" : "") + "]";
    }
}
