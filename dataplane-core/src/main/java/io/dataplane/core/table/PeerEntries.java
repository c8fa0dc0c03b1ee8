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
 * through a volatile field. Changes are serialized on one lock of all lanes and cost O(peers).
 *
 * <p><b>Lanes.</b> A node with several packet paths gives each further path a lane ({@link
 * #addLane}): a view of the same entries whose {@link #get} answers each entry's {@link
 * PeerEntry#lane lane entry}, on which that path counts without sharing a count with another thread.
 */
public final class PeerEntries {
    /** What every lane of one set of entries shares. */
    private static final class Slots {
        volatile PeerEntry[] slots = new PeerEntry[8];
        int lanes = 1; // guarded by this
    }

    private final Slots shared;
    private final int lane;

    /** No entries; lane 0. */
    public PeerEntries() {
        this(new Slots(), 0);
    }

    private PeerEntries(Slots shared, int lane) {
        this.shared = shared;
        this.lane = lane;
    }

    /**
     * A further lane of these entries: every entry, those added later included, gets a lane entry
     * of its own for it. Add a lane before its packet path runs.
     */
    public PeerEntries addLane() {
        synchronized (shared) {
            for (PeerEntry e : shared.slots) {
                if (e != null) e.addLane();
            }
            return new PeerEntries(shared, shared.lanes++);
        }
    }

    /** This view's lane: 0 for the entries themselves. */
    public int lane() {
        return lane;
    }

    /** The entry with {@code id} (its lane entry on a further lane), or null (none, or an id out of range). Lock-free and allocation-free. */
    public PeerEntry get(int id) {
        PeerEntry[] s = shared.slots;
        PeerEntry e = id >= 0 && id < s.length ? s[id] : null;
        return e == null || lane == 0 ? e : e.lane(lane);
    }

    /** The endpoint of the entry with {@code id}, 0 if there is none: what a route holding the id stands for. */
    public int endpoint(int id) {
        PeerEntry entry = get(id);
        return entry == null ? 0 : entry.endpoint();
    }

    /** A new entry for the peer with {@code subnet} (null: a VTEP, see {@link PeerEntry#subnet}) at {@code endpoint}, under the lowest free id. */
    public PeerEntry add(Ipv4Prefix subnet, int endpoint) {
        synchronized (shared) {
            PeerEntry[] current = shared.slots;
            int id = 0;
            while (id < current.length && current[id] != null) id++;
            PeerEntry[] copy = Arrays.copyOf(current, id < current.length ? current.length : 2 * current.length);
            PeerEntry entry = new PeerEntry(id, subnet, endpoint);
            for (int l = 1; l < shared.lanes; l++) entry.addLane();
            copy[id] = entry;
            shared.slots = copy;
            return entry;
        }
    }

    /** Frees the id of {@code entry}; false if it was not there. */
    public boolean remove(PeerEntry entry) {
        synchronized (shared) {
            PeerEntry[] current = shared.slots;
            int id = entry.id();
            if (id >= current.length || current[id] != entry) return false;
            PeerEntry[] copy = current.clone();
            copy[id] = null;
            shared.slots = copy;
            return true;
        }
    }

    /** The entries, by id (a copy). */
    public List<PeerEntry> all() {
        List<PeerEntry> list = new ArrayList<>();
        for (PeerEntry e : shared.slots) {
            if (e != null) list.add(e);
        }
        return Collections.unmodifiableList(list);
    }
}
