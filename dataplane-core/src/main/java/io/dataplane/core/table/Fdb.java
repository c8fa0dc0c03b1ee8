package io.dataplane.core.table;

import io.dataplane.core.wire.MacAddress;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The forwarding database of a VXLAN device: MAC address -&gt; underlay endpoint, what the kernel
 * holds for {@code flannel.1} after {@code bridge fdb append 22:e8:35:88:1e:9a dev flannel.1 dst
 * 192.0.2.2}. The packet path finds here where to send a frame for a peer VTEP's MAC.
 *
 * <p>One endpoint per MAC, as flannel programs it (one remote VTEP per node): adding a MAC again
 * replaces its endpoint. The UDP port is the device's, not per entry. There is no learning and no
 * ageing; the control plane adds an entry per peer and removes it when the peer leaves.
 *
 * <p>{@link #hasEndpoint} answers the reverse question, whether an underlay address is the endpoint
 * of any entry: a VTEP that only takes datagrams from known peers asks it for every one it receives.
 *
 * <p>An entry may carry the {@linkplain PeerEntry#id() id of the peer entry} of its endpoint
 * ({@link #add(MacAddress, int, int)}): {@link #entry} returns endpoint and id from one probe, and
 * {@link #peerIdAt} the id for a datagram's source address, so that the packet path counts on the
 * peer without a lookup of its own.
 *
 * <p>Lookups are lock-free and allocation-free: the entries live in an immutable open-addressing
 * array ({@link HashSlots}) that every change replaces and publishes through a volatile field, so a
 * lookup racing a change sees the table before or after it. Changes are serialized on a private
 * lock and cost O(entries). While an entry's endpoint is replaced, {@link #hasEndpoint} answers
 * true for both the old and the new endpoint for a moment, never for neither.
 */
public final class Fdb {
    /** What {@link #lookup} returns for a MAC address without an entry. */
    public static final long MISSING = -1;
    private static final long ENDPOINT = 0xffff_ffffL;
    private final Object writeLock = new Object();
    private volatile long[] slots = HashSlots.NONE;
    private volatile int size;
    // The endpoints of the entries, counted: several MACs may share one endpoint.
    private final AddressSet endpoints = new AddressSet();

    /** An empty database. */
    public Fdb() {}

    /**
     * The underlay IPv4 address for {@code mac} (48 bits, as {@link MacAddress#value()} and {@link
     * MacAddress#read}) as 0..2^32-1 in a long, or {@link #MISSING}. Lock-free and allocation-free.
     */
    public long lookup(long mac) {
        long e = HashSlots.get(slots, mac);
        return e == MISSING ? MISSING : e & ENDPOINT;
    }

    /**
     * The entry of {@code mac}, endpoint and peer id in one long ({@link #endpointOf}, {@link
     * #peerIdOf}), or {@link #MISSING}. Lock-free and allocation-free.
     */
    public long entry(long mac) {
        return HashSlots.get(slots, mac);
    }

    /** The underlay IPv4 address of an {@link #entry}. */
    public static int endpointOf(long entry) {
        return (int) entry;
    }

    /** The peer id of an {@link #entry}, -1 if it carries none. */
    public static int peerIdOf(long entry) {
        return (int) (entry >>> 32) - 1;
    }

    /**
     * The peer id an entry with {@code address} as endpoint carries (the last one added, where
     * several MACs share it), {@link AddressSet#NO_ID} if none does, {@link AddressSet#ABSENT}
     * if no entry has that endpoint. Lock-free and allocation-free: the probe of {@link #hasEndpoint}.
     */
    public int peerIdAt(int address) {
        return endpoints.peerId(address);
    }

    /** Sets the underlay endpoint of {@code mac}, replacing an existing entry. */
    public void add(MacAddress mac, int endpoint) {
        put(mac, endpoint, -1);
    }

    /** Sets the underlay endpoint of {@code mac} and the id (0 or more) of its peer's entry, replacing an existing entry. */
    public void add(MacAddress mac, int endpoint, int peerId) {
        if (peerId < 0) throw new IllegalArgumentException("peer id out of range: peerId=" + peerId);
        put(mac, endpoint, peerId);
    }

    private void put(MacAddress mac, int endpoint, int peerId) {
        long key = mac.value();
        long value = (long) (peerId + 1) << 32 | Integer.toUnsignedLong(endpoint);
        synchronized (writeLock) {
            long[] current = slots;
            long old = HashSlots.get(current, key);
            if (old == value) return;
            // The new endpoint is known before any entry points at it, the old one until none does.
            if (peerId >= 0) {
                endpoints.add(endpoint, peerId);
            } else {
                endpoints.add(endpoint);
            }
            slots = HashSlots.put(current, size, key, value);
            if (old == HashSlots.EMPTY) {
                size++;
            } else {
                endpoints.remove((int) old);
            }
        }
    }

    /** Removes the entry of {@code mac}; false if there was none. */
    public boolean remove(MacAddress mac) {
        long key = mac.value();
        synchronized (writeLock) {
            long[] current = slots;
            long old = HashSlots.get(current, key);
            if (old == HashSlots.EMPTY) return false;
            slots = HashSlots.remove(current, size, key);
            size--;
            endpoints.remove((int) old);
            return true;
        }
    }

    /**
     * True if {@code address} is the underlay endpoint of at least one entry. Lock-free and
     * allocation-free.
     */
    public boolean hasEndpoint(int address) {
        return endpoints.contains(address);
    }

    /** Number of entries. */
    public int size() {
        return size;
    }

    /** Every entry, ordered by MAC address (a copy, for the control plane and tests). */
    public Map<MacAddress, Integer> snapshot() {
        Map<MacAddress, Integer> map = new TreeMap<>(Comparator.comparingLong(MacAddress::value));
        HashSlots.forEach(slots, (key, value) -> map.put(new MacAddress(key), (int) value));
        return Collections.unmodifiableMap(map);
    }
}
