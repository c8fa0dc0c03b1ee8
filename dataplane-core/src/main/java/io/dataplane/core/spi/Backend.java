package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;
import java.util.List;

/**
 * One of flannel's backends at run time. It turns the other nodes' leases into table entries (a
 * route per peer subnet, and for VXLAN a neighbor and an FDB entry, as flanneld programs
 * {@code flannel.1}), and supplies the {@link Encapsulation} and {@link Transport} the
 * {@link io.dataplane.core.pipeline.Pipeline} runs.
 *
 * <p>The control plane calls {@link #addPeer} and {@link #removePeer} from its own thread while
 * packets flow; implementations make those changes visible to the packet path without blocking
 * it (the core tables already are lock-free for readers).
 */
public interface Backend extends AutoCloseable {

    /** Which backend this is. */
    BackendType type();

    /**
     * Our own lease as the other nodes must see it: our subnet, public IP, backend type and backend
     * data (the VTEP MAC for vxlan, the public key and port for wireguard).
     */
    Lease localLease();

    /** The encapsulation the pipeline runs; null when the kernel forwards (host-gw). */
    Encapsulation encapsulation();

    /** The underlay transport; null when the kernel forwards (host-gw). */
    Transport transport();

    /**
     * One more packet path over this backend's tables, for another queue of a multi-queue TUN: an
     * encapsulation of its own (its own header views, its own lane of the peers' counters, see
     * {@link io.dataplane.core.table.PeerEntries#addLane}) and a transport of its own on the same
     * address and port, receiving into {@code pool}, closed with the backend. The tables (routes,
     * peers, and the backend's own) stay one, read by every path without locks. Called before the
     * lane's path runs, from one thread at a time.
     *
     * @throws UnsupportedOperationException naming the backend for one that runs a single path (the default)
     * @throws IOException when the lane's socket cannot be opened
     */
    default Lane openLane(PacketPool pool) throws IOException {
        throw new UnsupportedOperationException("the " + type().flannelName() + " backend runs one packet path only");
    }

    /**
     * A further packet path's parts ({@link #openLane}).
     *
     * @param encapsulation the lane's encapsulation
     * @param transport the lane's transport
     */
    record Lane(Encapsulation encapsulation, Transport transport) {}

    /** The routes the pipeline looks up: peer subnet -> the next hop value the encapsulation understands. */
    RouteTable routes();

    /**
     * The gateway a value of {@link #routes()} stands for, as {@code ip route} prints it: the value
     * itself by default; a backend whose routes hold peer ids answers the peer's address (0: none).
     */
    default int gateway(int routeValue) {
        return routeValue;
    }

    /**
     * The packet path's entry of the peer with this subnet, with the peer's traffic counted each
     * way; null when there is no such peer or the backend counts no traffic per peer (the default).
     */
    default PeerEntry peerEntry(Ipv4Prefix subnet) {
        return null;
    }

    /**
     * Adds a peer from its lease, or updates it when a peer with the same subnet is there.
     *
     * @throws IllegalArgumentException naming the field and value when the lease does not fit this
     *     backend (another backend type, missing or malformed backend data, our own subnet)
     */
    void addPeer(Lease lease);

    /** Removes the peer whose subnet is {@code subnet}; false if there was none. */
    boolean removePeer(Ipv4Prefix subnet);

    /** The peers now configured. */
    List<Lease> peers();

    /**
     * Counters the backend keeps besides the pipeline's and the transport's (drops it decides on
     * its own threads, such as a WireGuard device's handshake timers); none by default. A node adds
     * them to its stats.
     */
    default List<Counters> counters() {
        return List.of();
    }

    /**
     * Writes the kernel routes this backend added again (host-gw's peer routes, DirectRouting's),
     * putting back any that someone deleted and changing nothing where they are: flanneld's
     * {@code routeCheck}, which a node runs every ten seconds. None by default.
     *
     * @return the routes the kernel refused, each with its error; empty when all are in place
     */
    default List<String> restoreKernelRoutes() {
        return List.of();
    }

    /** Stops the transport and releases what the backend holds (buffers, sockets, kernel routes it added). */
    @Override
    void close();
}
