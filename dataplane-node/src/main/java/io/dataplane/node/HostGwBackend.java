package io.dataplane.node;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.PeerBackend;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Peers;
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
 * flannel's {@code host-gw} backend: for every peer a kernel route {@code 10.244.2.0/24 via
 * 192.0.2.2 dev eth0} (its subnet via its public IP, out of the interface that reaches it), and
 * nothing in user space. The kernel forwards the pods' packets unencapsulated, so every node must
 * sit on one layer-2 link with the others, as flannel requires of host-gw; a lease whose public IP
 * the kernel reaches only through a gateway is refused, naming the gateway.
 *
 * <p>No packet path: {@link #encapsulation()} and {@link #transport()} are null, {@link #routes()}
 * stays empty, and a node running this backend creates no TUN device, pool or pipeline. The routes
 * live in the kernel's main table ({@link #kernelRoutes()}); {@link PeerRoutes} writes them, the
 * same piece that vxlan and ipip use for DirectRouting.
 *
 * <p>Why here and not in an {@code encap-*} module: those are one per wire format, and host-gw
 * has none; its only ingredient is the kernel-route programming that lives in tun-io. It is a
 * backend only the node opens (by type, next to the others), and the node treats it apart.
 *
 * <p><b>Leases</b> are checked as by the other backends (another type, our own subnet or public
 * IP, overlaps and subnets outside the network are refused with {@link IllegalArgumentException}
 * naming the field). A lease for a subnet we have replaces its route ({@code ip route replace}),
 * so a peer that moves is never unrouted on the way. {@link #removePeer} deletes the route, and
 * {@link #close} every route this backend added. A kernel that refuses a route makes {@link
 * #addPeer} throw {@link UncheckedIOException} naming it.
 *
 * <p>Control plane only; every method may be called from any thread.
 */
public final class HostGwBackend extends PeerBackend<Void> {
    private static final Logger LOG = System.getLogger(HostGwBackend.class.getName());

    private final Ipv4Prefix subnet;
    private final int publicIp;
    private final PeerRoutes kernelRoutes;
    private final RouteTable noRoutes = new RouteTable();

    private HostGwBackend(NetConf netConf, Ipv4Prefix subnet, int publicIp, PeerRoutes kernelRoutes) {
        super(Peers.of(BackendType.HOST_GW, netConf.network(), subnet, publicIp), null);
        this.subnet = subnet;
        this.publicIp = publicIp;
        this.kernelRoutes = kernelRoutes;
    }

    /**
     * Opens the backend for the node of {@code subnet} at {@code publicIp}: an rtnetlink socket in
     * the calling thread's network namespace, where the routes will go.
     *
     * @throws ConfigException when {@code netConf}'s backend is not host-gw
     * @throws IllegalArgumentException when the subnet is not in the network
     * @throws IOException when the rtnetlink socket cannot be opened
     */
    public static HostGwBackend open(NetConf netConf, Ipv4Prefix subnet, int publicIp) throws IOException {
        if (netConf == null) throw new IllegalArgumentException("network configuration missing: netConf=null");
        if (netConf.backend().type() != BackendType.HOST_GW) {
            throw new ConfigException(null, "Backend.Type", "not host-gw: " + netConf.backend().type());
        }
        if (subnet == null || !netConf.network().contains(subnet)) {
            throw new IllegalArgumentException("subnet outside the network: subnet=" + subnet + " network=" + netConf.network());
        }
        if (publicIp == 0) throw new IllegalArgumentException("public IP missing: publicIp=" + Ipv4Address.toString(publicIp));
        return new HostGwBackend(netConf, subnet, publicIp, PeerRoutes.open(PeerRoutes.Style.VIA_DEVICE));
    }

    /** Null: the kernel forwards, nothing is encapsulated. */
    @Override
    public Encapsulation encapsulation() {
        return null;
    }

    /** Always empty: host-gw's routes are in the kernel's table, see {@link #kernelRoutes()}. */
    @Override
    public RouteTable routes() {
        return noRoutes;
    }

    /** The peers' routes written again ({@link PeerRoutes#restore}). */
    @Override
    public List<String> restoreKernelRoutes() {
        return kernelRoutes.restore();
    }

    /** The kernel routes this backend added, by subnet. */
    public Map<Ipv4Prefix, Route> kernelRoutes() {
        return kernelRoutes.routes();
    }

    /**
     * Routes the peer's subnet via its public IP in the kernel, or re-routes the subnet of a peer
     * that moved.
     *
     * @throws IllegalArgumentException naming the field and value of a lease this backend refuses,
     *     a public IP not on our link among them
     * @throws UncheckedIOException when the kernel refuses the route
     */
    @Override
    protected void add(Lease lease) {
        peers.check(lease);
        Peers.Peer<Void> old = peers.get(lease.subnet());
        if (old != null && old.publicIp() == lease.publicIp()) return;
        kernelRoutes.install(lease.subnet(), lease.publicIp());
        peers.put(lease, null);
        LOG.log(Level.DEBUG, () -> (old == null ? "added peer " : "updated peer ") + lease.subnet() + " via "
                + Ipv4Address.toString(lease.publicIp()));
    }

    /** Deletes the kernel route of the peer. */
    @Override
    protected void remove(Peers.Peer<Void> peer) {
        kernelRoutes.withdraw(peer.subnet());
        LOG.log(Level.DEBUG, () -> "removed peer " + peer.subnet());
    }

    /** Deletes every route this backend added. */
    @Override
    protected void release() {
        kernelRoutes.close();
    }

    @Override
    public String toString() {
        return "HostGwBackend[" + subnet + " at " + Ipv4Address.toString(publicIp) + "]";
    }
}
