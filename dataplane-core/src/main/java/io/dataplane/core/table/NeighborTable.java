package io.dataplane.core.table;

import io.dataplane.core.wire.MacAddress;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The neighbor (ARP) table of a VXLAN device: IPv4 address -&gt; MAC address, what the kernel holds
 * for {@code flannel.1} after {@code ip neigh add 10.244.2.0 lladdr 22:e8:35:88:1e:9a dev flannel.1
 * nud permanent}. The packet path resolves a route's gateway to the peer VTEP's MAC here.
 *
 * <p>Entries are permanent: there is no ARP resolution or ageing; the control plane adds one per
 * peer and removes it when the peer leaves.
 *
 * <p>Lookups are lock-free and allocation-free: the entries live in an immutable open-addressing
 * array ({@link HashSlots}) that every change replaces and publishes through a volatile field, so a
 * lookup racing a change sees the table before or after it. Changes are serialized on a private
 * lock and cost O(entries), fine for a table written a few times per peer.
 */
public final class NeighborTable {
    /** What {@link #lookup} returns for an address without an entry. */
    public static final long MISSING = -1;
    private final Object writeLock = new Object();
    private volatile long[] slots = HashSlots.NONE;
    private volatile int size;

    /** An empty table. */
    public NeighborTable() {}

    /**
     * The MAC address of {@code address} in the low 48 bits of a long (as {@link MacAddress#value()}),
     * or {@link #MISSING}. Lock-free and allocation-free.
     */
    public long lookup(int address) {
        return HashSlots.get(slots, Integer.toUnsignedLong(address));
    }

    /** Sets the MAC address of {@code address}, replacing an existing entry. */
    public void add(int address, MacAddress mac) {
        long value = mac.value();
        synchronized (writeLock) {
            long key = Integer.toUnsignedLong(address);
            long[] current = slots;
            long old = HashSlots.get(current, key);
            if (old == value) return;
            slots = HashSlots.put(current, size, key, value);
            if (old == HashSlots.EMPTY) size++;
        }
    }

    /** Removes the entry of {@code address}; false if there was none. */
    public boolean remove(int address) {
        synchronized (writeLock) {
            long key = Integer.toUnsignedLong(address);
            long[] current = slots;
            if (HashSlots.get(current, key) == HashSlots.EMPTY) return false;
            slots = HashSlots.remove(current, size, key);
            size--;
            return true;
        }
    }

    /** Number of entries. */
    public int size() {
        return size;
    }

    /** Every entry, ordered by address as an unsigned number (a copy, for the control plane and tests). */
    public Map<Integer, MacAddress> snapshot() {
        Map<Integer, MacAddress> map = new TreeMap<>(Integer::compareUnsigned);
        HashSlots.forEach(slots, (key, value) -> map.put((int) key, new MacAddress(value)));
        return Collections.unmodifiableMap(map);
    }
}
