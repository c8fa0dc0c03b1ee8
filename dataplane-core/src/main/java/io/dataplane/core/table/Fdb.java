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
 * <p>Lookups are lock-free and allocation-free: the entries live in an immutable open-addressing
 * array ({@link HashSlots}) that every change replaces and publishes through a volatile field, so a
 * lookup racing a change sees the table before or after it. Changes are serialized on a private
 * lock and cost O(entries). While an entry's endpoint is replaced, {@link #hasEndpoint} answers
 * true for both the old and the new endpoint for a moment, never for neither.
 */
public final class Fdb {
    /** What {@link #lookup} returns for a MAC address without an entry. */
    public static final long MISSING = -1;
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
        return HashSlots.get(slots, mac);
    }

    /** Sets the underlay endpoint of {@code mac}, replacing an existing entry. */
    public void add(MacAddress mac, int endpoint) {
        long key = mac.value();
        long value = Integer.toUnsignedLong(endpoint);
        synchronized (writeLock) {
            long[] current = slots;
            long old = HashSlots.get(current, key);
            if (old == value) return;
            // The new endpoint is known before any entry points at it, the old one until none does.
            endpoints.add(endpoint);
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
