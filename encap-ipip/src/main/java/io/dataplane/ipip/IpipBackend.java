package io.dataplane.ipip;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.spi.PeerBackend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Peers;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.netlink.PeerRoutes;
import io.dataplane.tun.netlink.Route;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;

/**
 * flannel's {@code ipip} backend with {@link IpipEncapsulation} in place of the kernel's {@code
 * flannel.ipip} device (this kernel has no ipip module, and we would not want its one-packet-per-call
 * path anyway). Leases carry no backend data; each peer is one route, peer subnet -&gt; the peer's
 * public IP (the route holds the id of the peer's {@link PeerEntry}, which holds the address and
 * counts the peer's traffic), as flanneld's route {@code 10.244.2.0/24 via 192.0.2.2 dev flannel.ipip onlink} says.
 *
 * <p><b>DirectRouting.</b> With {@code "DirectRouting": true} a peer whose public IP the kernel
 * reaches without a gateway (flanneld's {@code ip.DirectRouting}) gets a kernel route instead,
 * {@code 10.244.2.0/24 via 192.0.2.2 dev eth0 onlink} ({@link PeerRoutes}): more specific than the
 * node's route of the whole network into the TUN, it takes the peer's packets past the tunnel, and
 * they cross the underlay unencapsulated. Each lease is judged when it is added, as flanneld judges
 * each lease event: a lease update that moves the peer onto or off our link switches it between the
 * kernel route and the tunnel, the new way in place before the old one goes. Unlike flanneld, which
 * judges again at removal, we remove what we installed.
 *
 * <p><b>Known peers.</b> Datagrams are taken only from the public IPs of the peers, the directly
 * routed ones included: the two ends judge "same link" each for itself, and a peer that tunnels to
 * us while we route to it directly must still get through. A lease update moves the address in one
 * step (new in, then old out), so no datagram from either is dropped on the way.
 *
 * <p><b>Leases we refuse</b> ({@link IllegalArgumentException} naming the field and value): another
 * backend type; our own subnet, one overlapping ours or another peer's, or one outside the network;
 * our own public IP. A kernel that refuses a direct route makes {@link #addPeer} throw {@link
 * UncheckedIOException} naming the route, with the peer left as it was.
 *
 * <p><b>Socket.</b> The transport is a raw IPv4 socket for protocol 4 bound to our public IP, in
 * datagram mode ({@code IP_HDRINCL}). The kernel answers an IP-in-IP datagram that no raw socket
 * takes with ICMP protocol unreachable, since it has no ipip handler; while the backend runs the
 * socket takes every one addressed to the public IP, so the kernel answers none of them (datagrams
 * to other local addresses still get the ICMP error, which is right: nothing tunnels there). ICMP
 * errors that come back for our own datagrams reach no one (a raw socket without IP_RECVERR
 * ignores them) and disturb nothing.
 */
public final class IpipBackend extends PeerBackend<IpipBackend.Peer> {
    private static final Logger LOG = System.getLogger(IpipBackend.class.getName());

    private final IpipTunnelConfig tunnel;
    private final RouteTable routes = new RouteTable();
    private final AddressSet peerAddresses = new AddressSet();
    private final PeerEntries entries = new PeerEntries();
    private final IpipEncapsulation encapsulation;
    private final PeerRoutes directRoutes;

    /** One peer as programmed: its entry (public IP, counters; its id is the route's value), and whether the kernel routes it. */
    record Peer(PeerEntry entry, boolean direct) {}

    private IpipBackend(BackendContext context, IpipTunnelConfig tunnel, Transport transport, PeerRoutes directRoutes) {
        super(Peers.of(BackendType.IPIP, context), transport);
        this.tunnel = tunnel;
        this.encapsulation = new IpipEncapsulation(tunnel, peerAddresses, entries);
        this.directRoutes = directRoutes;
    }

    /** {@link #open(BackendContext, IpipOptions)} with {@link IpipOptions#defaults()}. */
    public static IpipBackend open(BackendContext context) throws IOException {
        return open(context, IpipOptions.defaults());
    }

    /**
     * Opens the tunnel end for this node: the inner MTU from {@code context.tunMtu()}, the transport
     * bound to our public IP, and with DirectRouting an rtnetlink socket for the direct routes, both
     * in the calling thread's network namespace.
     *
     * @throws ConfigException when the backend configuration is not ipip
     * @throws IllegalArgumentException when the context or options do not fit (pool headroom below 20
     *     bytes, buffers too small for a full datagram, a TUN MTU out of range, an outer TTL above 255)
     * @throws IOException when the socket cannot be opened (EPERM without CAP_NET_RAW) or bound
     */
    public static IpipBackend open(BackendContext context, IpipOptions options) throws IOException {
        BackendConf conf = context.netConf().backend();
        if (conf.type() != BackendType.IPIP) throw new ConfigException(null, "Backend.Type", "not ipip: " + conf.type());
        IpipTunnelConfig tunnel = new IpipTunnelConfig(context.publicIp(), context.tunMtu(), options.outerTtl(), options.acceptUnknownPeers());
        checkPool(context.pool(), context.tunMtu());
        PeerRoutes direct = conf.directRouting() ? PeerRoutes.open(PeerRoutes.Style.VIA_DEVICE_ONLINK) : null;
        Transport transport;
        try {
            transport = options.transports().open(context.publicIp(), 0, context.pool());
        } catch (IOException | RuntimeException e) {
            if (direct != null) direct.close();
            throw e;
        }
        LOG.log(Level.DEBUG, () -> "ipip tunnel " + tunnel + (direct != null ? " with DirectRouting" : ""));
        return new IpipBackend(context, tunnel, transport, direct);
    }

    private static void checkPool(PacketPool pool, int tunMtu) {
        // A full-size datagram (outer header and an MTU-sized packet) is received at the headroom.
        Peers.checkPool(pool, "IP-in-IP", IpipTunnelConfig.OVERHEAD, tunMtu, IpipTunnelConfig.OVERHEAD, "");
    }

    /** The tunnel's settings (our address, inner MTU, outer TTL). */
    public IpipTunnelConfig tunnelConfig() {
        return tunnel;
    }

    @Override
    public IpipEncapsulation encapsulation() {
        return encapsulation;
    }

    /**
     * Tunnelled peers' subnets -&gt; the ids of their {@link PeerEntry entries}, which hold their
     * public IPs ({@link #gateway}); directly routed peers are in the kernel's table instead.
     */
    @Override
    public RouteTable routes() {
        return routes;
    }

    /** The public IP of the peer whose entry has the id {@code routeValue}; 0 if none has. */
    @Override
    public int gateway(int routeValue) {
        return entries.endpoint(routeValue);
    }

    @Override
    public synchronized PeerEntry peerEntry(Ipv4Prefix subnet) {
        Peers.Peer<Peer> peer = peers.get(subnet);
        return peer == null ? null : peer.state().entry();
    }

    /** The public IPs datagrams are taken from, for inspection; change it through {@link #addPeer} and {@link #removePeer}. */
    public AddressSet peerAddresses() {
        return peerAddresses;
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
     * Adds a peer, or updates the peer with the same subnet: a route in the tunnel's table, or with
     * DirectRouting and the peer on our link, a kernel route (see the class comment).
     *
     * @throws UncheckedIOException when the kernel refuses a direct route
     */
    @Override
    protected void add(Lease lease) {
        peers.check(lease);
        Ipv4Prefix subnet = lease.subnet();
        int publicIp = lease.publicIp();
        Peers.Peer<Peer> old = peers.get(subnet);
        boolean direct = directRouting() && directRoutes.reachesDirectly(publicIp);
        if (old != null && old.publicIp() == publicIp && old.state().direct() == direct) {
            peers.put(lease, old.state());
            return;
        }
        PeerEntry entry = old != null ? old.state().entry() : entries.add(subnet, publicIp);
        peerAddresses.add(publicIp, entry.id());
        // The entry moves to the new address before the route (ours) points at it.
        if (old != null) entry.setEndpoint(publicIp);
        try {
            if (directRoutes != null) {
                directRoutes.steer(subnet, publicIp, direct, old == null ? null : old.state().direct(), routes, entry.id());
            } else {
                routes.add(subnet, entry.id());
            }
        } catch (RuntimeException e) {
            peerAddresses.remove(publicIp);
            if (old == null) {
                entries.remove(entry);
            } else {
                entry.setEndpoint(old.publicIp());
            }
            throw e;
        }
        if (old != null) peerAddresses.remove(old.publicIp());
        peers.put(lease, new Peer(entry, direct));
        LOG.log(Level.DEBUG, () -> (old == null ? "added " : "updated ") + describe(lease, direct));
    }

    /** Removes the peer with this subnet: its route (the tunnel's or the kernel's), then its address from the known ones. */
    @Override
    protected void remove(Peers.Peer<Peer> peer) {
        if (peer.state().direct()) {
            directRoutes.withdraw(peer.subnet());
        } else {
            routes.remove(peer.subnet());
        }
        peerAddresses.remove(peer.publicIp());
        entries.remove(peer.state().entry());
        LOG.log(Level.DEBUG, () -> "removed " + describe(peer.lease(), peer.state().direct()));
    }

    /** Closes the transport and deletes the kernel routes of the directly routed peers. */
    @Override
    protected void release() {
        super.release();
        if (directRoutes != null) directRoutes.close();
    }

    private static String describe(Lease lease, boolean direct) {
        return "peer " + lease.subnet() + " at " + Ipv4Address.toString(lease.publicIp()) + (direct ? " (direct route)" : "");
    }

    @Override
    public String toString() {
        return "IpipBackend[" + tunnel + (directRouting() ? " DirectRouting" : "") + "]";
    }
}
