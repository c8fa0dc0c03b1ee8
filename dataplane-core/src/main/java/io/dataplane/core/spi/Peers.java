package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The peers of one {@link Backend}, by subnet in address order, each with what the backend
 * programmed for it ({@code S}), and the checks every backend makes on a lease before it programs
 * anything: flannel's {@code RouteNetwork} bookkeeping, shared by every backend so that each one says
 * only what differs (its lease data, its tables, its extra checks).
 *
 * <p><b>Leases refused</b> by {@link #check} with an {@link IllegalArgumentException} naming the field
 * and value: none; another backend type; our own public IP (unless the backend tells peers apart by
 * more than the address, see {@link #allowingOurPublicIp}); our own subnet, one overlapping ours or
 * another peer's, one outside the network.
 *
 * <p>Not thread-safe: the backend that owns it guards it with the lock its {@code addPeer} and
 * {@code removePeer} hold, so that a peer's entries and its tables change together.
 *
 * @param <S> what the backend keeps per peer besides the lease (Void when nothing)
 */
public final class Peers<S> {
    /** Subnets by address, then by length. */
    public static final Comparator<Ipv4Prefix> BY_SUBNET =
            Comparator.comparingLong((Ipv4Prefix p) -> Integer.toUnsignedLong(p.address())).thenComparingInt(Ipv4Prefix::length);

    /** One peer: its lease and what the backend programmed for it. */
    public record Peer<S>(Lease lease, S state) {
        /** The peer's subnet. */
        public Ipv4Prefix subnet() {
            return lease.subnet();
        }

        /** The peer's public IP. */
        public int publicIp() {
            return lease.publicIp();
        }
    }

    private final BackendType type;
    private final Ipv4Prefix network;
    private final Ipv4Prefix ourSubnet;
    private final int ourPublicIp;
    private final boolean ourPublicIpAllowed;
    private final Map<Ipv4Prefix, Peer<S>> peers = new TreeMap<>(BY_SUBNET);
    private boolean closed;

    private Peers(BackendType type, Ipv4Prefix network, Ipv4Prefix ourSubnet, int ourPublicIp, boolean ourPublicIpAllowed) {
        this.type = type;
        this.network = network;
        this.ourSubnet = ourSubnet;
        this.ourPublicIp = ourPublicIp;
        this.ourPublicIpAllowed = ourPublicIpAllowed;
    }

    /** The peers of a {@code type} backend of the node with {@code ourSubnet} at {@code ourPublicIp} in {@code network}. */
    public static <S> Peers<S> of(BackendType type, Ipv4Prefix network, Ipv4Prefix ourSubnet, int ourPublicIp) {
        return new Peers<>(type, network, ourSubnet, ourPublicIp, false);
    }

    /** The peers of a {@code type} backend opened with {@code context}. */
    public static <S> Peers<S> of(BackendType type, BackendContext context) {
        return of(type, context.netConf().network(), context.subnet(), context.publicIp());
    }

    /**
     * These peers, where a lease may carry our own public IP: for a backend whose peers are told
     * apart by more than the address (WireGuard's public key and port).
     */
    public Peers<S> allowingOurPublicIp() {
        return new Peers<>(type, network, ourSubnet, ourPublicIp, true);
    }

    /** The backend type whose leases these peers hold. */
    public BackendType type() {
        return type;
    }

    /** Our own subnet, which no peer may overlap. */
    public Ipv4Prefix ourSubnet() {
        return ourSubnet;
    }

    /** Our own public IP. */
    public int ourPublicIp() {
        return ourPublicIp;
    }

    /** {@link #check(Lease, Ipv4Prefix)} with no subnet to leave out. */
    public void check(Lease lease) {
        check(lease, null);
    }

    /**
     * Throws {@link IllegalArgumentException} naming the field and value when {@code lease} is one
     * this backend refuses (see the class comment). A peer's own subnet never overlaps it, nor does
     * {@code leaving}, a subnet the lease's peer is moving away from (null: none).
     */
    public void check(Lease lease, Ipv4Prefix leaving) {
        checkType(lease);
        Ipv4Prefix subnet = lease.subnet();
        if (!ourPublicIpAllowed && lease.publicIp() == ourPublicIp) {
            throw new IllegalArgumentException("lease with our own public IP: PublicIP=" + Ipv4Address.toString(lease.publicIp())
                    + " (lease of " + subnet + ")");
        }
        if (subnet.equals(ourSubnet)) throw new IllegalArgumentException("lease of our own subnet: Subnet=" + subnet);
        if (overlap(subnet, ourSubnet)) throw new IllegalArgumentException("lease overlaps our own subnet " + ourSubnet + ": Subnet=" + subnet);
        if (!network.contains(subnet)) throw new IllegalArgumentException("lease outside the network " + network + ": Subnet=" + subnet);
        for (Ipv4Prefix other : peers.keySet()) {
            if (!other.equals(subnet) && !other.equals(leaving) && overlap(other, subnet)) {
                throw new IllegalArgumentException("lease overlaps peer " + other + ": Subnet=" + subnet);
            }
        }
    }

    /**
     * The first of {@link #check}'s checks, for a backend that reads the lease's data before the
     * rest: throws {@link IllegalArgumentException} when the lease is missing or of another backend type.
     */
    public void checkType(Lease lease) {
        if (lease == null) throw new IllegalArgumentException("lease missing: null");
        if (!lease.backendType().equals(type)) {
            throw new IllegalArgumentException("lease of another backend: BackendType=" + lease.backendType() + ", this node runs " + type
                    + " (lease of " + lease.subnet() + ")");
        }
    }

    private static boolean overlap(Ipv4Prefix a, Ipv4Prefix b) {
        return a.contains(b) || b.contains(a);
    }

    /**
     * Throws {@link IllegalStateException} naming the backend after {@link #close}: a backend calls it
     * first in {@code addPeer}.
     */
    public void checkOpen() {
        if (closed) throw new IllegalStateException(type + " backend closed");
    }

    /** Marks the backend closed; true the first time, so that the backend releases what it holds once. */
    public boolean close() {
        if (closed) return false;
        closed = true;
        return true;
    }

    /** The peer with this subnet, or null. */
    public Peer<S> get(Ipv4Prefix subnet) {
        return peers.get(subnet);
    }

    /** Records the peer of {@code lease} with {@code state}, replacing the one with the same subnet; returns that one or null. */
    public Peer<S> put(Lease lease, S state) {
        return peers.put(lease.subnet(), new Peer<>(lease, state));
    }

    /** Forgets the peer with this subnet; returns it, or null if there was none. */
    public Peer<S> remove(Ipv4Prefix subnet) {
        return peers.remove(subnet);
    }

    /** The peers, in subnet order; a view, not to be changed through. */
    public Collection<Peer<S>> all() {
        return Collections.unmodifiableCollection(peers.values());
    }

    /** The peers' leases, in subnet order. */
    public List<Lease> leases() {
        List<Lease> list = new ArrayList<>(peers.size());
        for (Peer<S> p : peers.values()) list.add(p.lease());
        return List.copyOf(list);
    }

    /**
     * Checks that {@code pool} fits a backend: at least {@code headroom} bytes in front of every
     * packet for the outer headers ({@code what} names them in the message), and room after the
     * headroom for {@code tunMtu + extra} bytes (a full-size datagram as it is received).
     *
     * @throws IllegalArgumentException naming the values that do not fit
     */
    public static void checkPool(PacketPool pool, String what, int headroom, int tunMtu, int extra, String extraWhat) {
        if (pool == null) throw new IllegalArgumentException("backend context: pool missing");
        if (pool.headroom() < headroom) {
            throw new IllegalArgumentException("pool headroom too small for " + what + ": headroom=" + pool.headroom() + " (needs " + headroom + ")");
        }
        int room = pool.bufferSize() - pool.headroom();
        if (tunMtu + extra > room) {
            throw new IllegalArgumentException("pool buffers too small for the TUN MTU: tunMtu=" + tunMtu + " needs " + (tunMtu + extra)
                    + " bytes after the headroom" + extraWhat + ", buffers have " + room);
        }
    }
}
