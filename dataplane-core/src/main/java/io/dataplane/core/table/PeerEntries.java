package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A backend's {@link PeerEntry peer entries} by id: the value its routes hold (udp, ipip) or the
 * tag of its FDB entries (vxlan), so that the packet path goes from the lookup it makes anyway to
 * the peer's entry with one array read, {@link #get}.
 *
 * <p>Ids are small (the lowest free one is taken), so the array stays as long as the peers are
 * many. An id freed by {@link #remove} may be taken again at once: a packet that looked a route up
 * just before its peer went may find another peer under the id, which {@link PeerEntry#covers}
 * tells apart.
 *
 * <p>{@link #get} is lock-free and allocation-free: every change copies the array and publishes it
 * through a volatile field. Changes are serialized on this object and cost O(peers).
 */
public final class PeerEntries {
    private volatile PeerEntry[] slots = new PeerEntry[8];

    /** No entries. */
    public PeerEntries() {}

    /** The entry with {@code id}, or null (none, or an id out of range). Lock-free and allocation-free. */
    public PeerEntry get(int id) {
        PeerEntry[] s = slots;
        return id >= 0 && id < s.length ? s[id] : null;
    }

    /** The endpoint of the entry with {@code id}, 0 if there is none: what a route holding the id stands for. */
    public int endpoint(int id) {
        PeerEntry entry = get(id);
        return entry == null ? 0 : entry.endpoint();
    }

    /** A new entry for the peer with {@code subnet} (null: a VTEP, see {@link PeerEntry#subnet}) at {@code endpoint}, under the lowest free id. */
    public synchronized PeerEntry add(Ipv4Prefix subnet, int endpoint) {
        PeerEntry[] current = slots;
        int id = 0;
        while (id < current.length && current[id] != null) id++;
        PeerEntry[] copy = Arrays.copyOf(current, id < current.length ? current.length : 2 * current.length);
        PeerEntry entry = new PeerEntry(id, subnet, endpoint);
        copy[id] = entry;
        slots = copy;
        return entry;
    }

    /** Frees the id of {@code entry}; false if it was not there. */
    public synchronized boolean remove(PeerEntry entry) {
        PeerEntry[] current = slots;
        int id = entry.id();
        if (id >= current.length || current[id] != entry) return false;
        PeerEntry[] copy = current.clone();
        copy[id] = null;
        slots = copy;
        return true;
    }

    /** The entries, by id (a copy). */
    public List<PeerEntry> all() {
        List<PeerEntry> list = new ArrayList<>();
        for (PeerEntry e : slots) {
            if (e != null) list.add(e);
        }
        return Collections.unmodifiableList(list);
    }
}
