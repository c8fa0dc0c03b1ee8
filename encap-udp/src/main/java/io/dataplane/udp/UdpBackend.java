package io.dataplane.udp;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.spi.PeerBackend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Peers;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * flannel's {@code udp} backend: leases carry no backend data, and each peer is one route, peer
 * subnet -&gt; the peer's public IP, as flanneld hands its C proxy ({@code setRoute(ctl, subnet,
 * PublicIP, port)}); the route's value is the id of the peer's {@link PeerEntry}, which holds the
 * public IP and counts the peer's traffic, and {@link UdpEncapsulation} sends each packet to that
 * address at the tunnel's port.
 *
 * <p>Besides the routes the backend keeps the set of the peers' public IPs, from which alone the
 * tunnel takes datagrams. A peer's lease for a subnet we already have replaces its route in one
 * atomic step (the new address joins the set first, the entry moves to it in one store, the old one leaves after), so no packet goes to
 * the old address once {@link #addPeer} has returned, and none is dropped on the way. Removal takes
 * the route away first.
 *
 * <p><b>Leases we refuse</b> ({@link IllegalArgumentException} naming the field and value): another
 * backend type; our own subnet, one overlapping ours or another peer's, or one outside the network;
 * our own public IP. Backend data, which flannel's udp leases do not have, is ignored.
 *
 * <p><b>Socket.</b> The transport binds our public IP and the port (8285 by default), as flanneld
 * binds the external interface's address: it is where peers send to and makes our datagrams leave
 * from the address peers know us by.
 */
public final class UdpBackend extends PeerBackend<PeerEntry> {
    private static final Logger LOG = System.getLogger(UdpBackend.class.getName());

    private final UdpTunnelConfig tunnel;
    private final RouteTable routes = new RouteTable();
    private final AddressSet peerAddresses = new AddressSet();
    private final PeerEntries entries = new PeerEntries();
    private final UdpEncapsulation encapsulation;
    private final BackendContext context;
    private final TransportFactory transports;

    private UdpBackend(BackendContext context, UdpTunnelConfig tunnel, Transport transport, TransportFactory transports) {
        super(Peers.of(BackendType.UDP, context), transport);
        this.tunnel = tunnel;
        this.encapsulation = new UdpEncapsulation(tunnel, peerAddresses, entries);
        this.context = context;
        this.transports = transports;
    }

    /** {@link #open(BackendContext, UdpOptions)} with {@link UdpOptions#defaults()}. */
    public static UdpBackend open(BackendContext context) throws IOException {
        return open(context, UdpOptions.defaults());
    }

    /**
     * Opens the tunnel for this node: the port from {@code context.netConf().backend()}, the TUN
     * address (source of our ICMP errors) from our subnet, the inner MTU from {@code
     * context.tunMtu()}, and a transport bound to our public IP and the port.
     *
     * @throws ConfigException when the backend configuration is not udp
     * @throws IllegalArgumentException when the context or options do not fit (pool headroom below 28
     *     bytes, buffers too small for the TUN MTU, a TUN MTU below 68, a bad ICMP limit), naming the value
     * @throws IOException when the socket cannot be bound
     */
    public static UdpBackend open(BackendContext context, UdpOptions options) throws IOException {
        BackendConf conf = context.netConf().backend();
        if (conf.type() != BackendType.UDP) throw new ConfigException(null, "Backend.Type", "not udp: " + conf.type());
        checkPool(context.pool(), context.tunMtu());
        int icmpSource = UdpTunnelConfig.icmpSourceFor(context.netConf().network(), context.subnet());
        UdpTunnelConfig tunnel = new UdpTunnelConfig(conf.port(), icmpSource, context.tunMtu(),
                options.acceptUnknownPeers(), options.icmpPerSecond(), options.icmpBurst());
        Transport transport = options.transports().open(context.publicIp(), conf.port(), context.pool());
        LOG.log(Level.DEBUG, () -> "udp tunnel " + tunnel + " on " + Ipv4Address.toString(context.publicIp()) + ":" + conf.port());
        return new UdpBackend(context, tunnel, transport, options.transports());
    }

    private static void checkPool(PacketPool pool, int tunMtu) {
        Peers.checkPool(pool, "the ICMP errors of the udp backend", UdpEncapsulation.ICMP_ERROR_HEADROOM, tunMtu, 0, "");
    }

    /** The tunnel's settings (port, ICMP source, inner MTU, ICMP limits). */
    public UdpTunnelConfig tunnelConfig() {
        return tunnel;
    }

    @Override
    public UdpEncapsulation encapsulation() {
        return encapsulation;
    }

    /**
     * A further packet path over the same routes and peers: an encapsulation of its own on a lane of
     * the peers' counters, and a socket on our public IP and the tunnel's port opened as the first
     * (the node opens the sockets of one port as a group). ICMP errors are limited per path.
     */
    @Override
    public Lane openLane(PacketPool pool) throws IOException {
        checkPool(pool, context.tunMtu());
        Transport transport = openLaneTransport(transports, context.publicIp(), pool);
        return new Lane(new UdpEncapsulation(tunnel, peerAddresses, entries.addLane()), transport);
    }

    /** Peer subnet -&gt; the id of the peer's {@link PeerEntry}, which holds its public IP ({@link #gateway}). */
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
        Peers.Peer<PeerEntry> peer = peers.get(subnet);
        return peer == null ? null : peer.state();
    }

    /** The public IPs datagrams are taken from, for inspection; change it through {@link #addPeer} and {@link #removePeer}. */
    public AddressSet peerAddresses() {
        return peerAddresses;
    }

    /**
     * Adds the route of a peer, or moves the peer with the same subnet to the lease's public IP (its
     * entry, and with it its counters, stays).
     */
    @Override
    protected void add(Lease lease) {
        peers.check(lease);
        Peers.Peer<PeerEntry> old = peers.get(lease.subnet());
        PeerEntry entry = old != null ? old.state() : entries.add(lease.subnet(), lease.publicIp());
        peers.put(lease, entry);
        if (old != null && old.publicIp() == lease.publicIp()) return;
        peerAddresses.add(lease.publicIp(), entry.id());
        if (old == null) {
            routes.add(lease.subnet(), entry.id());
        } else {
            entry.setEndpoint(lease.publicIp());
            peerAddresses.remove(old.publicIp());
        }
        LOG.log(Level.DEBUG, () -> (old == null ? "added peer " : "updated peer ") + lease.subnet() + " at " + Ipv4Address.toString(lease.publicIp()));
    }

    /** Removes the route of the peer with this subnet, then its address from the known ones. */
    @Override
    protected void remove(Peers.Peer<PeerEntry> peer) {
        routes.remove(peer.subnet());
        peerAddresses.remove(peer.publicIp());
        entries.remove(peer.state());
        LOG.log(Level.DEBUG, () -> "removed peer " + peer.subnet() + " at " + Ipv4Address.toString(peer.publicIp()));
    }

    @Override
    public String toString() {
        return "UdpBackend[" + tunnel + "]";
    }
}
