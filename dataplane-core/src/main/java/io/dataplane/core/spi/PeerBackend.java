package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link Backend} whose peers live in a {@link Peers} book: this class takes the backend's lock
 * around every peer change, refuses changes after {@link #close}, lists the peers, and closes the
 * transport once; a backend says only how a peer goes into its tables ({@link #add}) and comes out
 * ({@link #remove}), and what else it releases.
 *
 * @param <S> what the backend keeps per peer besides the lease
 */
public abstract class PeerBackend<S> implements Backend {
    /** The peers, guarded by this object's lock, which {@link #add} and {@link #remove} hold. */
    protected final Peers<S> peers;
    private final Transport transport;
    private final List<Transport> laneTransports = new CopyOnWriteArrayList<>();

    /**
     * @param peers the backend's peer book
     * @param transport the underlay transport, closed by {@link #release}; null when the kernel forwards
     */
    protected PeerBackend(Peers<S> peers, Transport transport) {
        this.peers = peers;
        this.transport = transport;
    }

    @Override
    public final BackendType type() {
        return peers.type();
    }

    /** Our lease: our subnet and public IP, no backend data; backends whose leases carry some override it. */
    @Override
    public Lease localLease() {
        return Lease.of(peers.ourSubnet(), peers.ourPublicIp(), peers.type());
    }

    @Override
    public Transport transport() {
        return transport;
    }

    /**
     * Adds the peer of {@code lease}, or updates the one with its subnet ({@link #add}).
     *
     * @throws IllegalArgumentException naming the field and value of a lease this backend refuses
     * @throws IllegalStateException after {@link #close}
     */
    @Override
    public final synchronized void addPeer(Lease lease) {
        peers.checkOpen();
        add(lease);
    }

    /**
     * Checks {@code lease} ({@link Peers#check} and the backend's own checks), programs it, and
     * records it in {@link #peers}; called with the lock held on an open backend. Leaves the peer as
     * it was when it throws.
     */
    protected abstract void add(Lease lease);

    /** Removes the peer with this subnet ({@link #remove}); false if there is none. */
    @Override
    public final synchronized boolean removePeer(Ipv4Prefix subnet) {
        Peers.Peer<S> peer = peers.remove(subnet);
        if (peer == null) return false;
        remove(peer);
        return true;
    }

    /** Takes {@code peer}, already gone from {@link #peers}, out of the backend's tables; called with the lock held. */
    protected abstract void remove(Peers.Peer<S> peer);

    /** The leases of the peers now configured, ordered by subnet. */
    @Override
    public final synchronized List<Lease> peers() {
        return peers.leases();
    }

    /** Refuses further peers and {@linkplain #release releases} what the backend holds, once. Idempotent. */
    @Override
    public final void close() {
        synchronized (this) {
            if (!peers.close()) return;
        }
        release();
    }

    /**
     * Opens a transport for a further lane through {@code transports} on the address and port of
     * the backend's own transport, receiving into {@code pool}, and keeps it to close with the
     * backend ({@link #release}); for a backend's {@link #openLane}.
     *
     * @throws IllegalStateException after {@link #close}
     */
    protected Transport openLaneTransport(TransportFactory transports, int bindAddress, PacketPool pool) throws IOException {
        peers.checkOpen();
        Transport t = transports.open(bindAddress, transport.localPort(), pool);
        laneTransports.add(t);
        return t;
    }

    /** Releases what the backend holds, outside the lock, once: the transports by default. */
    protected void release() {
        if (transport != null) transport.close();
        for (Transport t : laneTransports) t.close();
    }
}
