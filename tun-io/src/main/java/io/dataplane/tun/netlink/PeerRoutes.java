package io.dataplane.tun.netlink;

import io.dataplane.core.spi.Peers;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Kernel routes to other nodes' subnets through their public IPs, {@code 10.244.2.0/24 via
 * 192.0.2.2}: what flannel's {@code host-gw} programs for every peer, and what {@code vxlan} and
 * {@code ipip} with {@code "DirectRouting": true} program for the peers they reach without a
 * tunnel. The kernel then forwards those subnets itself, without encapsulation; nothing of this
 * dataplane touches their packets.
 *
 * <p><b>Which peers.</b> A route via a public IP only works when that address is on a link of
 * this host. {@link #isDirect} asks the kernel as flanneld's {@code ip.DirectRouting} does: the
 * route to the public IP ({@code ip route get}) has no gateway. {@link #add} refuses other peers,
 * naming the gateway the kernel would use instead, where flanneld's host-gw would log the kernel's
 * refusal of the route.
 *
 * <p><b>The form of the route</b> follows the backend it stands in for ({@link Style}), because
 * flanneld writes each differently: host-gw names the external interface, ipip's direct route
 * keeps the {@code onlink} flag of its tunnel route, vxlan's names only the gateway. Where flanneld
 * names its external interface we name the interface the kernel reaches the public IP through (the
 * same one, whenever the peer is on the external interface's subnet).
 *
 * <p><b>Ownership.</b> {@link #add} replaces any route to the subnet ({@code ip route replace}), as
 * flanneld does; {@link #remove} and {@link #close} delete exactly the routes this object added and
 * still holds, finding one that is already gone (a link went down and took it along) no error.
 * {@link #restore} puts them all back, flanneld's ten-second {@code routeCheck}.
 *
 * <p>The rtnetlink socket belongs to the namespace of the thread that calls {@link #open}; every
 * method may then be called from any thread (they are serialized). Control plane only: each call
 * is one or two netlink round trips.
 */
public final class PeerRoutes implements AutoCloseable {
    private static final Logger LOG = System.getLogger(PeerRoutes.class.getName());

    /** The form of route each flannel backend writes for a peer it routes directly. */
    public enum Style {
        /** {@code SUBNET via PUBLICIP dev IFACE}: host-gw's route. */
        VIA_DEVICE,
        /** {@code SUBNET via PUBLICIP dev IFACE onlink}: ipip's route with DirectRouting. */
        VIA_DEVICE_ONLINK,
        /** {@code SUBNET via PUBLICIP}, the kernel picks the interface: vxlan's route with DirectRouting. */
        VIA_GATEWAY
    }

    private final Netlink netlink;
    private final Style style;
    // Guarded by this.
    private final Map<Ipv4Prefix, Route> routes = new TreeMap<>(Peers.BY_SUBNET);
    private boolean closed;

    private PeerRoutes(Netlink netlink, Style style) {
        this.netlink = netlink;
        this.style = style;
    }

    /** Opens an rtnetlink socket in the calling thread's network namespace for routes of {@code style}. */
    public static PeerRoutes open(Style style) throws IOException {
        if (style == null) throw new IllegalArgumentException("route style missing: style=null");
        return new PeerRoutes(Netlink.open(), style);
    }

    /** The form of the routes this object writes. */
    public Style style() {
        return style;
    }

    /**
     * True if the kernel reaches {@code publicIp} without a gateway (flanneld's {@code
     * ip.DirectRouting}); false for an address routed via a gateway, for one with no route at all,
     * and for a local address.
     *
     * @throws IOException when the lookup fails for another reason than "unreachable"
     */
    public synchronized boolean isDirect(int publicIp) throws IOException {
        RouteLookup hop = lookup(publicIp);
        return hop != null && hop.direct();
    }

    /**
     * Routes {@code subnet} via {@code publicIp} in the kernel, replacing whatever route to {@code
     * subnet} was there (ours for another public IP included).
     *
     * @return the route as written
     * @throws IllegalArgumentException naming the public IP and the gateway the kernel would take
     *     when {@code publicIp} is not on a link of this host, or has no route, or is local
     * @throws IOException naming the route when the kernel refuses it
     * @throws IllegalStateException after {@link #close}
     */
    public synchronized Route add(Ipv4Prefix subnet, int publicIp) throws IOException {
        if (closed) throw new IllegalStateException("peer routes closed");
        if (subnet == null) throw new IllegalArgumentException("subnet missing: subnet=null");
        RouteLookup hop = lookup(publicIp);
        String ip = Ipv4Address.toString(publicIp);
        if (hop == null) throw new IllegalArgumentException("no route to the peer's public IP: PublicIP=" + ip + " (subnet " + subnet + ")");
        if (hop.local()) throw new IllegalArgumentException("the peer's public IP is an address of this host: PublicIP=" + ip);
        if (!hop.direct()) {
            throw new IllegalArgumentException("peer not on a link of this host: PublicIP=" + ip + " is reached via "
                    + Ipv4Address.toString(hop.gateway()) + ", a route " + subnet + " via " + ip + " needs it on the same subnet");
        }
        String device = style == Style.VIA_GATEWAY ? null : netlink.link(hop.linkIndex()).name();
        Route route = new Route(subnet, publicIp, device, style == Style.VIA_DEVICE_ONLINK);
        netlink.replaceRoute(route);
        Route old = routes.put(subnet, route);
        LOG.log(Level.DEBUG, () -> (old == null ? "added route " : "replaced route " + old + " by ") + route);
        return route;
    }

    /**
     * {@link #isDirect} for a backend's {@code addPeer}, which throws no checked exception.
     *
     * @throws UncheckedIOException naming the peer when the kernel cannot be asked
     */
    public boolean reachesDirectly(int publicIp) {
        try {
            return isDirect(publicIp);
        } catch (IOException e) {
            throw new UncheckedIOException("route lookup for peer " + Ipv4Address.toString(publicIp) + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * {@link #add} for a backend's {@code addPeer}, which throws no checked exception.
     *
     * @throws UncheckedIOException naming the route when the kernel refuses it
     */
    public Route install(Ipv4Prefix subnet, int publicIp) {
        try {
            return add(subnet, publicIp);
        } catch (IOException e) {
            throw new UncheckedIOException("route to " + subnet + " via " + Ipv4Address.toString(publicIp) + " refused: " + e.getMessage(), e);
        }
    }

    /**
     * Routes a peer's subnet the way DirectRouting judged it, the new way in place before the old one
     * goes: with {@code direct} the kernel route via {@code publicIp} ({@link #install}), then the
     * subnet leaves {@code tunnel} if it was there ({@code wasDirect} false); otherwise the subnet goes
     * into {@code tunnel} to {@code tunnelHop}, then the kernel route goes if there was one ({@code
     * wasDirect} true). {@code wasDirect} null: a new peer, nothing to take away.
     *
     * @throws UncheckedIOException when the kernel refuses the route (nothing changed)
     */
    public void steer(Ipv4Prefix subnet, int publicIp, boolean direct, Boolean wasDirect, RouteTable tunnel, int tunnelHop) {
        if (direct) {
            install(subnet, publicIp);
            if (Boolean.FALSE.equals(wasDirect)) tunnel.remove(subnet);
        } else {
            tunnel.add(subnet, tunnelHop);
            if (Boolean.TRUE.equals(wasDirect)) withdraw(subnet);
        }
    }

    /**
     * {@link #remove} for a backend's {@code removePeer}: the peer leaves the backend's books either
     * way, so a kernel that refuses is worth a warning, not a failure.
     */
    public void withdraw(Ipv4Prefix subnet) {
        try {
            remove(subnet);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not delete the route to " + subnet + ": " + e.getMessage());
        }
    }

    /**
     * Deletes the route to {@code subnet} that {@link #add} wrote; false if there is none of ours.
     * One the kernel no longer has counts as removed.
     *
     * @throws IOException when the kernel refuses to delete it for another reason
     */
    public synchronized boolean remove(Ipv4Prefix subnet) throws IOException {
        Route route = routes.remove(subnet);
        if (route == null) return false;
        deleteIfThere(route);
        LOG.log(Level.DEBUG, () -> "deleted route " + route);
        return true;
    }

    /** The routes this object holds now, by subnet. */
    public synchronized Map<Ipv4Prefix, Route> routes() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(routes));
    }

    /** The route to {@code subnet} this object holds, or null. */
    public synchronized Route route(Ipv4Prefix subnet) {
        return routes.get(subnet);
    }

    /**
     * Writes every route again ({@code ip route replace}): puts back those someone deleted, changes
     * nothing where they are (flanneld's {@code routeCheck}, every ten seconds).
     *
     * @return the routes the kernel refused (their link is gone, say), each with its error; empty when all are in place
     */
    public synchronized List<String> restore() {
        List<String> refused = new ArrayList<>();
        for (Route r : routes.values()) {
            try {
                netlink.replaceRoute(r);
            } catch (IOException e) {
                refused.add(e.getMessage());
            }
        }
        return refused;
    }

    /** Deletes every route this object added and closes its socket. Idempotent; failures are logged, not thrown. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Route r : routes.values()) {
            try {
                deleteIfThere(r);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete route " + r + ": " + e.getMessage());
            }
        }
        routes.clear();
        netlink.close();
    }

    private RouteLookup lookup(int address) throws IOException {
        try {
            return netlink.routeGet(address);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENETUNREACH || e.errno() == Errno.EHOSTUNREACH) return null;
            throw e;
        }
    }

    private void deleteIfThere(Route route) throws IOException {
        try {
            netlink.deleteRoute(route);
        } catch (ErrnoException e) {
            // ESRCH: no such route; ENODEV: its device is gone, and the route with it.
            if (e.errno() != Errno.ESRCH && e.errno() != Errno.ENODEV) throw e;
        }
    }

    @Override
    public synchronized String toString() {
        return "PeerRoutes[" + style + " " + routes.values() + "]";
    }
}
