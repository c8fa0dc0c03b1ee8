package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Address;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of IPv4 addresses in which an address may be added several times and stays in until it is
 * removed as many times: the underlay endpoints of the known peers, where two entries (two FDB
 * MACs, two leases of one node) may share one endpoint. The packet path asks {@link #contains}
 * for every received datagram to drop those from strangers ({@code UNKNOWN_PEER}).
 *
 * <p>An address may also carry the {@linkplain PeerEntry#id() id of a peer entry} ({@link
 * #add(int, int)}), which {@link #peerId} returns from the same probe as {@link #contains}: the
 * packet path learns whether a datagram's source is a peer and which one in one lookup. Where two
 * peers share an address, it carries the id of the one added last.
 *
 * <p>Lookups are lock-free and allocation-free: the counts live in an immutable open-addressing
 * array ({@link HashSlots}) that every change replaces and publishes through a volatile field, so a
 * lookup racing a change sees the set before or after it. Changes are serialized on a private lock
 * and cost O(addresses), fine for a set the control plane writes a few times per peer.
 */
public final class AddressSet {
    /** What {@link #peerId} returns for an address not in the set. */
    public static final int ABSENT = -2;
    /** What {@link #peerId} returns for an address in the set without a peer id. */
    public static final int NO_ID = -1;
    // A slot's value: the count in the low 32 bits, the peer id + 1 above (0: none).
    private static final long COUNT = 0xffff_ffffL;
    private final Object writeLock = new Object();
    private volatile long[] slots = HashSlots.NONE;
    private volatile int size;

    /** An empty set. */
    public AddressSet() {}

    /** True if {@code address} is in the set. Lock-free and allocation-free. */
    public boolean contains(int address) {
        return HashSlots.get(slots, Integer.toUnsignedLong(address)) != HashSlots.EMPTY;
    }

    /** How many times {@code address} was added and not yet removed (0 if it is not in the set). */
    public int count(int address) {
        long c = HashSlots.get(slots, Integer.toUnsignedLong(address));
        return c == HashSlots.EMPTY ? 0 : (int) c;
    }

    /**
     * The peer id {@code address} carries, {@link #NO_ID} if it carries none, or {@link #ABSENT}
     * if it is not in the set. Lock-free and allocation-free: one probe, as {@link #contains}.
     */
    public int peerId(int address) {
        long c = HashSlots.get(slots, Integer.toUnsignedLong(address));
        return c == HashSlots.EMPTY ? ABSENT : (int) (c >>> 32) - 1;
    }

    /** Adds {@code address} once more, as {@link #add(int)}, and makes it carry the peer id {@code id} (0 or more). */
    public void add(int address, int id) {
        if (id < 0) throw new IllegalArgumentException("peer id out of range: id=" + id);
        put(address, (long) (id + 1) << 32);
    }

    /** Adds {@code address} once more; it stays in until removed as many times as it was added. */
    public void add(int address) {
        put(address, -1);
    }

    // One more of address; its id bits become idBits, or stay as they are when idBits is -1.
    private void put(int address, long idBits) {
        long key = Integer.toUnsignedLong(address);
        synchronized (writeLock) {
            long[] current = slots;
            long old = HashSlots.get(current, key);
            long count = old == HashSlots.EMPTY ? 1 : (old & COUNT) + 1;
            long ids = idBits != -1 ? idBits : old == HashSlots.EMPTY ? 0 : old & ~COUNT;
            slots = HashSlots.put(current, size, key, ids | count);
            if (old == HashSlots.EMPTY) size++;
        }
    }

    /**
     * Takes back one {@link #add} of {@code address}; the address leaves the set with its last one.
     * Returns false, changing nothing, if the address is not in the set.
     */
    public boolean remove(int address) {
        long key = Integer.toUnsignedLong(address);
        synchronized (writeLock) {
            long[] current = slots;
            long old = HashSlots.get(current, key);
            if (old == HashSlots.EMPTY) return false;
            if ((old & COUNT) > 1) {
                slots = HashSlots.put(current, size, key, old - 1);
            } else {
                slots = HashSlots.remove(current, size, key);
                size--;
            }
            return true;
        }
    }

    /** Number of distinct addresses in the set. */
    public int size() {
        return size;
    }

    /** Every address with its count, ordered by address as an unsigned number (a copy, for tests and reports). */
    public Map<Integer, Integer> snapshot() {
        Map<Integer, Integer> map = new TreeMap<>(Integer::compareUnsigned);
        HashSlots.forEach(slots, (key, value) -> map.put((int) key, (int) value));
        return Collections.unmodifiableMap(map);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AddressSet[");
        snapshot().forEach((a, c) -> sb.append(sb.length() > 11 ? ", " : "").append(Ipv4Address.toString(a)).append(c > 1 ? " x" + c : ""));
        return sb.append(']').toString();
    }
}
