package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * One peer as the packet path finds it: its underlay endpoint and its traffic, counted each way.
 * The tables the path already consults lead to it by its {@link #id()} (see {@link PeerEntries}),
 * so counting on a peer costs no lookup of its own.
 *
 * <p><b>Writers.</b> The sent side ({@link #countSent}, {@link #dropSent}) is written by the one
 * egress thread, the received side ({@link #countReceived}, {@link #dropReceived}) by the one
 * thread that decapsulates: plain adds published with opaque stores, no lock, no CAS, as {@link
 * io.dataplane.core.stats.Counters}. The time of the last packet is stored with release after the
 * counts it goes with, and read with acquire, so a reader that sees a time sees at least the counts
 * of that moment. Readers (a report, a scrape) may run on any thread.
 *
 * <p><b>Lanes.</b> A node with several packet paths (one per queue of a multi-queue TUN) has an
 * egress and a receive thread per path. Each path counts on a lane entry of its own ({@link
 * #lane}, made by {@link PeerEntries#addLane}), which shares this entry's id, subnet and endpoint
 * and keeps its own counts, single-writer as above; this entry's readers sum the lanes (the time of
 * the last packet: the latest), so no two threads ever add to one count.
 *
 * <p>"Received" counts the inner packets from the peer handed to the TUN and their bytes; its drops
 * are datagrams from the peer's address dropped as bad. "Sent" counts the inner packets handed to
 * the transport for the peer (a super-packet as its segments) and their bytes; its drops are those
 * the transport did not take.
 */
public final class PeerEntry {
    private static final VarHandle TX_PACKETS = handle("txPackets");
    private static final VarHandle TX_BYTES = handle("txBytes");
    private static final VarHandle TX_DROPS = handle("txDrops");
    private static final VarHandle TX_LAST = handle("txLastMillis");
    private static final VarHandle RX_PACKETS = handle("rxPackets");
    private static final VarHandle RX_BYTES = handle("rxBytes");
    private static final VarHandle RX_DROPS = handle("rxDrops");
    private static final VarHandle RX_LAST = handle("rxLastMillis");

    private final int id;
    private final Ipv4Prefix subnet;
    private final int network;
    private final int mask;
    private volatile int endpoint;
    private final PeerEntry main; // a lane's entry: the entry it counts for; null for that entry itself
    private volatile PeerEntry[] lanes; // the main entry's: itself, then one entry per further lane
    // Egress thread.
    private long txPackets;
    private long txBytes;
    private long txDrops;
    private long txLastMillis;
    // Receive thread.
    private long rxPackets;
    private long rxBytes;
    private long rxDrops;
    private long rxLastMillis;

    PeerEntry(int id, Ipv4Prefix subnet, int endpoint) {
        this(id, subnet, endpoint, null);
        this.lanes = new PeerEntry[] {this};
    }

    private PeerEntry(int id, Ipv4Prefix subnet, int endpoint, PeerEntry main) {
        this.id = id;
        this.subnet = subnet;
        this.network = subnet == null ? 0 : subnet.address();
        this.mask = subnet == null ? 0 : subnet.mask();
        this.endpoint = endpoint;
        this.main = main;
    }

    /** Gives this entry one more lane; the caller (PeerEntries) serializes the changes. */
    void addLane() {
        PeerEntry[] current = lanes;
        PeerEntry[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = new PeerEntry(id, subnet, 0, this);
        lanes = grown;
    }

    /**
     * The entry the packet path of lane {@code lane} counts on: this entry for lane 0, a lane entry
     * of its own for each further lane (see the class comment); this entry for a lane it does not have.
     */
    public PeerEntry lane(int lane) {
        PeerEntry[] l = main == null ? lanes : main.lanes;
        return lane >= 0 && lane < l.length ? l[lane] : this;
    }

    private static VarHandle handle(String field) {
        try {
            return MethodHandles.lookup().findVarHandle(PeerEntry.class, field, long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The small number the tables hold for this peer (a route's value, an FDB entry's tag); see {@link PeerEntries#get}. */
    public int id() {
        return id;
    }

    /** The peer's subnet, or null where the entry stands for an endpoint rather than one subnet (a VTEP). */
    public Ipv4Prefix subnet() {
        return subnet;
    }

    /**
     * True if {@code address} is in the peer's subnet (always, without one): a packet routed by a
     * route that raced the peer's removal, whose id another peer has since taken, is not.
     */
    public boolean covers(int address) {
        return (address & mask) == network;
    }

    /** The underlay address the peer's datagrams go to and come from. */
    public int endpoint() {
        return main == null ? endpoint : main.endpoint;
    }

    /** Moves the peer to another underlay address, at once for every packet after (on every lane). */
    public void setEndpoint(int endpoint) {
        if (main != null) {
            main.setEndpoint(endpoint);
        } else {
            this.endpoint = endpoint;
        }
    }

    /** {@code packets} inner packets of {@code bytes} in all handed to the transport for the peer at {@code nowMillis}. Egress thread. */
    public void countSent(int packets, long bytes, long nowMillis) {
        TX_PACKETS.setOpaque(this, txPackets + packets);
        TX_BYTES.setOpaque(this, txBytes + bytes);
        TX_LAST.setRelease(this, nowMillis);
    }

    /** {@code packets} packets for the peer the transport did not take. Egress thread. */
    public void dropSent(int packets) {
        TX_DROPS.setOpaque(this, txDrops + packets);
    }

    /** {@code packets} inner packets of {@code bytes} in all from the peer handed to the TUN, at {@code nowMillis}. Receive thread. */
    public void countReceived(int packets, long bytes, long nowMillis) {
        RX_PACKETS.setOpaque(this, rxPackets + packets);
        RX_BYTES.setOpaque(this, rxBytes + bytes);
        RX_LAST.setRelease(this, nowMillis);
    }

    /** {@code packets} datagrams from the peer's address dropped as bad, at {@code nowMillis}. Receive thread. */
    public void dropReceived(int packets, long nowMillis) {
        RX_DROPS.setOpaque(this, rxDrops + packets);
        RX_LAST.setRelease(this, nowMillis);
    }

    /** Inner packets sent to the peer. */
    public long sentPackets() {
        return sum(TX_PACKETS);
    }

    /** Inner bytes sent to the peer. */
    public long sentBytes() {
        return sum(TX_BYTES);
    }

    /** Packets for the peer the transport did not take. */
    public long sentDrops() {
        return sum(TX_DROPS);
    }

    /** Wall-clock time (epoch milliseconds) of the last packet sent to the peer, 0 if none. */
    public long lastSentMillis() {
        return latest(TX_LAST);
    }

    /** Inner packets received from the peer and handed to the TUN. */
    public long receivedPackets() {
        return sum(RX_PACKETS);
    }

    /** Inner bytes received from the peer and handed to the TUN. */
    public long receivedBytes() {
        return sum(RX_BYTES);
    }

    /** Datagrams from the peer's address dropped as bad. */
    public long receivedDrops() {
        return sum(RX_DROPS);
    }

    /** Wall-clock time (epoch milliseconds) of the last datagram from the peer, 0 if none. */
    public long lastReceivedMillis() {
        return latest(RX_LAST);
    }

    // The main entry's lanes, a count summed over them.
    private long sum(VarHandle count) {
        long total = 0;
        for (PeerEntry e : (main == null ? this : main).lanes) total += (long) count.getOpaque(e);
        return total;
    }

    // The main entry's lanes, the latest of a time.
    private long latest(VarHandle time) {
        long latest = 0;
        for (PeerEntry e : (main == null ? this : main).lanes) latest = Math.max(latest, (long) time.getAcquire(e));
        return latest;
    }

    @Override
    public String toString() {
        return "PeerEntry[" + id + (subnet != null ? " " + subnet : "") + " at " + Ipv4Address.toString(endpoint) + "]";
    }
}
