package io.dataplane.wireguard;

import static io.dataplane.core.wire.NetworkOrder.U16;
import static io.dataplane.core.wire.NetworkOrder.U32;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.util.concurrent.atomic.AtomicInteger;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A WireGuard interface in user space: our static identity, the peers, their handshakes and
 * sessions, as an {@link Encapsulation} the dataplane pipeline drives.
 *
 * <pre>
 *  encap(packet, peerId)  TUN reader thread. peerId is the allowed-IPs lookup of the destination
 *                         ({@link #allowedIps()} is the route table). With a session: seal in place
 *                         (FORWARD, endpoint set). Without: stage the packet (CONSUMED) and send an
 *                         initiation through the {@link WireGuardOutput}.
 *  decap(datagram)        receive thread. Transport data: open in place, check the replay window and
 *                         the inner source against the peer's allowed IPs (FORWARD to the TUN; a
 *                         keepalive is CONSUMED). Initiation: answered in the same buffer (REPLY).
 *                         Response: session up, the buffer becomes the confirming keepalive (REPLY)
 *                         or staged data goes out through the output (CONSUMED). Cookie reply: kept
 *                         (CONSUMED). Anything bad: a drop reason, never an exception. Transport
 *                         data for a session we lost, from a peer without one: a drop, and a
 *                         handshake with that peer.
 *  tick()                 any one thread (a timer thread or a loop of the receiver): retries,
 *                         keepalives, rekeys, key expiry, through the output.
 * </pre>
 *
 * <p>Threads. Every method is safe to call concurrently with the others, with one rule: {@link
 * #decap} from one thread at a time (it owns the replay windows and the load accounting), and
 * {@link #tick} from one thread at a time. The established data path is lock-free: the peer table
 * and the keypairs are published through volatile references, sending counters are atomic, index
 * lookups are single array reads. Handshakes, keypair rotation and staging lock the peer concerned.
 * Peers are added and removed by the control plane at any time.
 *
 * <p>Buffers: every buffer the device makes comes from {@link #pool()} and goes to the output,
 * which owns it from then; every buffer it drops it releases. A packet staged for a handshake is
 * held by the peer until it is sent, pushed out of the full queue, or the peer is removed or gives
 * up (then released and counted in {@link #counters()}).
 */
public final class WireGuardDevice implements Encapsulation, AutoCloseable {
    /** Default UDP port. */
    public static final int DEFAULT_PORT = 51820;
    /** Bytes on the wire beyond the inner packet, as flannel counts them (IPv6 underlay worst case: 40 + 8 + 32). */
    public static final int OVERHEAD = 80;

    private final WireGuardConfig config;
    private final WireGuardTimings timings;
    private final WireGuardClock clock;
    private final RouteTable allowedIps;
    private final PacketPool pool;
    /** Packets staged for handshakes by all peers, and the most of them: a quarter of the pool. */
    private final AtomicInteger stagedPackets = new AtomicInteger();
    private final int stagedBudget;
    private final WireGuardOutput output;
    private final IndexTable indexTable;
    private final AtomicReferenceArray<WireGuardPeer> peersById;
    private volatile int peerSlotsUsed; // ids below it may hold a peer: the scan of sessionLost stops there
    private final Map<NoisePublicKey, WireGuardPeer> peersByKey = new ConcurrentHashMap<>();
    private final HandshakeReceiver handshakes;
    private final Counters counters = new Counters();
    private final CipherCounts cipherCounts = new CipherCounts();

    /**
     * A device with {@code config}'s identity that keeps its peers' allowed IPs in {@code allowedIps}
     * (peer ids as values: cryptokey routing; the pipeline routes with the same table, so its next
     * hop is the peer id), makes its own datagrams from {@code pool} (headroom at least 16) and sends
     * them through {@code output}.
     */
    public WireGuardDevice(WireGuardConfig config, RouteTable allowedIps, PacketPool pool, WireGuardOutput output) {
        if (pool.headroom() < MessageType.TRANSPORT_HEADER_LEN) {
            throw new IllegalArgumentException("pool headroom too small for WireGuard: headroom=" + pool.headroom()
                    + " (need " + MessageType.TRANSPORT_HEADER_LEN + ")");
        }
        this.config = config;
        this.timings = config.timings();
        this.clock = config.clock();
        this.allowedIps = allowedIps;
        this.pool = pool;
        // The rest of the pool stays for reading the TUN, receiving and handshakes: staged packets
        // come from it too, and a pool they filled would leave no buffer for the handshake they wait for.
        this.stagedBudget = Math.max(1, pool.capacity() / 4);
        this.output = output;
        // Up to four indices per peer: a handshake and three keypairs.
        int slotBits = Math.max(8, 32 - Integer.numberOfLeadingZeros(config.maxPeers() * 4 - 1));
        this.indexTable = new IndexTable(slotBits);
        this.peersById = new AtomicReferenceArray<>(config.maxPeers());
        this.handshakes = new HandshakeReceiver(this);
        if (config.transportCipher().vector()) VectorChaCha20Poly1305.warmUp();
    }

    // --- control plane --------------------------------------------------------------------

    /**
     * Adds a peer and its allowed IPs (a prefix owned by another peer moves to this one).
     *
     * @throws IllegalArgumentException if the key is ours or already a peer, or the table is full
     */
    public synchronized WireGuardPeer addPeer(PeerConfig peerConfig) {
        if (peerConfig.publicKey().equals(publicKey())) {
            throw new IllegalArgumentException("peer public key is our own: " + peerConfig.publicKey());
        }
        if (peersByKey.containsKey(peerConfig.publicKey())) {
            throw new IllegalArgumentException("peer already present: " + peerConfig.publicKey());
        }
        int id = -1;
        for (int i = 0; i < peersById.length(); i++) {
            if (peersById.get(i) == null) {
                id = i;
                break;
            }
        }
        if (id < 0) throw new IllegalArgumentException("too many peers: maxPeers=" + config.maxPeers());
        WireGuardPeer peer = new WireGuardPeer(this, id, peerConfig);
        if (!peer.handshake.valid()) {
            throw new IllegalArgumentException("peer public key is unusable (low order point): " + peerConfig.publicKey());
        }
        peersById.set(id, peer);
        if (id >= peerSlotsUsed) peerSlotsUsed = id + 1;
        peersByKey.put(peer.publicKey(), peer);
        for (Ipv4Prefix prefix : peer.allowedIps()) allowedIps.add(prefix, id);
        if (peerConfig.persistentKeepaliveSeconds() > 0) {
            // wireguard-go sends a keepalive when persistent keepalive is configured on an up device.
            peer.sendKeepalive(clock.nanoTime());
        }
        return peer;
    }

    /**
     * Adds the peer, or brings an existing one (same public key) to {@code peerConfig} without
     * dropping its session: a new endpoint (when given), persistent keepalive and allowed IPs
     * take effect at once. A changed preshared key needs a new handshake, so such a peer is
     * removed and added again. This is what a renewed or edited flannel lease needs.
     */
    public synchronized WireGuardPeer updatePeer(PeerConfig peerConfig) {
        WireGuardPeer peer = peersByKey.get(peerConfig.publicKey());
        if (peer == null) return addPeer(peerConfig);
        if (!java.security.MessageDigest.isEqual(peer.presharedKey().bytes(), peerConfig.presharedKey().bytes())) {
            removePeer(peerConfig.publicKey());
            return addPeer(peerConfig);
        }
        if (peerConfig.endpointPort() != 0) peer.setEndpoint(peerConfig.endpointAddress(), peerConfig.endpointPort());
        java.util.Set<Ipv4Prefix> wanted = new java.util.HashSet<>(peerConfig.allowedIps());
        for (Ipv4Prefix prefix : peer.allowedIps()) {
            if (!wanted.contains(prefix) && allowedIps.get(prefix) == peer.id()) allowedIps.remove(prefix);
        }
        for (Ipv4Prefix prefix : peerConfig.allowedIps()) allowedIps.add(prefix, peer.id());
        peer.setAllowedIps(peerConfig.allowedIps());
        peer.setPersistentKeepalive(peerConfig.persistentKeepaliveSeconds());
        return peer;
    }

    /** Removes a peer: its allowed IPs, sessions and staged packets go. False if it was not there. */
    public synchronized boolean removePeer(NoisePublicKey key) {
        WireGuardPeer peer = peersByKey.remove(key);
        if (peer == null) return false;
        for (Ipv4Prefix prefix : peer.allowedIps()) {
            // Only if still ours: a later peer may have taken the prefix over.
            if (allowedIps.get(prefix) == peer.id()) allowedIps.remove(prefix);
        }
        peersById.set(peer.id(), null);
        peer.close();
        return true;
    }

    /** The peer with this public key, or null. */
    public WireGuardPeer peer(NoisePublicKey key) {
        return peersByKey.get(key);
    }

    /** The peer with this id (an encap next hop), or null. */
    public WireGuardPeer peer(int id) {
        return id >= 0 && id < peersById.length() ? peersById.get(id) : null;
    }

    /** Every peer, in no particular order. */
    public List<WireGuardPeer> peers() {
        return new ArrayList<>(peersByKey.values());
    }

    /** Our public key. */
    public NoisePublicKey publicKey() {
        return config.privateKey().publicKey();
    }

    /** The allowed-IPs table (prefix to peer id): the route table for {@link #encap}'s next hop. */
    public RouteTable allowedIps() {
        return allowedIps;
    }

    /**
     * What the device counted itself: the staged packets it sent once a session was up (egress the
     * pipeline does not see, having handed them over as consumed), and its drops (staged packets
     * pushed out or given up, cookie replies sent instead of handshakes, pool exhaustion).
     */
    public Counters counters() {
        return counters;
    }

    /**
     * Transport payload bytes (padded, without header and tag) this device has sealed ({@code [0]})
     * and opened ({@code [1]}, also of messages whose tag did not verify) with {@code code}:
     * {@link TransportCipher#VECTOR} the vector cipher, {@link TransportCipher#SEGMENT} our scalar
     * one, {@link TransportCipher#JDK} the JDK's; {@link TransportCipher#BY_SIZE} names no code of
     * its own and counts nothing. Where the configured cipher is {@link TransportCipher#VECTOR}, the
     * scalar counts are what the vector cipher left to it: messages before its warm-up ended, and
     * short ones on their own (see {@code TransportCodec}); a node whose vector cipher never warms
     * up (a JVM that cannot compile it) seals everything with the scalar one at several times the
     * CPU, and shows it here.
     */
    public long[] transportBytes(TransportCipher code) {
        return cipherCounts.get(code);
    }

    /** Where the keypairs of this device's peers count their bytes ({@link #transportBytes}). */
    CipherCounts cipherCounts() {
        return cipherCounts;
    }

    /** True while the device asks initiators for cookies. */
    public boolean underLoad() {
        return handshakes.underLoad(clock.nanoTime());
    }

    // --- Encapsulation --------------------------------------------------------------------

    @Override
    public int headroom() {
        return MessageType.TRANSPORT_HEADER_LEN;
    }

    @Override
    public int tailroom() {
        return MessageType.PADDING_MULTIPLE - 1 + MessageType.TAG_LEN;
    }

    @Override
    public int overhead() {
        return OVERHEAD;
    }

    /**
     * True: a TCP super-packet is sealed as the train of its segments' messages, each with its own
     * counter, in its own buffer ({@link TrainSealer}), for a transport that sends trains.
     */
    @Override
    public boolean sealsSuperPackets() {
        return true;
    }

    /**
     * True for a handshake message or a keepalive: an initiation is answered in its own buffer, a
     * response may become a keepalive or be released, a cookie reply and a keepalive are released.
     * Transport data with an inner packet is opened in place, where it lies in the train.
     */
    @Override
    public boolean decapsInOwnBuffer(PacketBuffer datagram) {
        return datagram.length() <= MessageType.KEEPALIVE_LEN
                || TransportHeader.type(datagram.segment(), datagram.offset()) != MessageType.TRANSPORT;
    }

    /** Seals {@code packet} for the peer with id {@code nextHop}, or stages it for a handshake. */
    @Override
    public int encap(PacketBuffer packet, int nextHop) {
        WireGuardPeer peer = peer(nextHop);
        if (peer == null) return DropReason.NO_ROUTE.ordinal();
        if (packet.length() == 0) return DropReason.TRUNCATED.ordinal();
        return peer.send(packet, clock.nanoTime());
    }

    /** Finds the peer for the packet's IPv4 destination itself, then {@link #encap(PacketBuffer, int)}. */
    public int encapByDestination(PacketBuffer packet) {
        if (packet.length() < 20) return DropReason.TRUNCATED.ordinal();
        int dst = packet.segment().get(U32, packet.offset() + 16);
        long id = allowedIps.lookup(dst);
        return id == RouteTable.NO_ROUTE ? noRoute(packet) : encap(packet, (int) id);
    }

    @Override
    public int decap(PacketBuffer packet) {
        if (packet.length() < 4) return DropReason.WG_BAD_MESSAGE.ordinal();
        int type = TransportHeader.type(packet.segment(), packet.offset());
        long now = clock.nanoTime();
        return switch (type) {
            case MessageType.TRANSPORT -> decapTransport(packet, now);
            case MessageType.INITIATION, MessageType.RESPONSE, MessageType.COOKIE_REPLY -> handshakes.receive(packet, type, now);
            default -> DropReason.WG_BAD_MESSAGE.ordinal();
        };
    }

    /**
     * Transport data for a session we do not have, from the endpoint of a peer with which we have
     * none: the peer still seals with a session we lost (we restarted with the same key), and goes
     * on until its own timers give up (keepalive and rekey timeouts, 15 s). A handshake now
     * replaces that session; at most one per rekey timeout, as every initiation.
     */
    private void sessionLost(int address, int port) {
        for (int i = 0, n = peerSlotsUsed; i < n; i++) {
            WireGuardPeer peer = peersById.get(i);
            if (peer != null && peer.endpointAddress() == address && peer.endpointPort() == port) {
                if (!peer.hasSession()) peer.initiateHandshake();
                return;
            }
        }
    }

    private int decapTransport(PacketBuffer p, long now) {
        p.setAuthenticated(false); // a train's buffer holds the one before this one's verdict
        int len = p.length();
        if (len < MessageType.KEEPALIVE_LEN) return DropReason.WG_BAD_MESSAGE.ordinal();
        MemorySegment seg = p.segment();
        int off = p.offset();
        if (!(indexTable.lookup(TransportHeader.receiver(seg, off)) instanceof Keypair kp)) {
            sessionLost(p.peerAddress(), p.peerPort());
            return DropReason.WG_UNKNOWN_RECEIVER.ordinal();
        }
        if (!kp.canReceive(now, timings)) return DropReason.WG_KEY_EXPIRED.ordinal();
        long counter = TransportHeader.counter(seg, off);
        if (!kp.replay.mayAccept(counter, timings.rejectAfterMessages())) return DropReason.WG_REPLAY.ordinal();
        int v = TransportCodec.open(kp, counter, p);
        if (v >= 0) return v;
        if (!kp.replay.accept(counter, timings.rejectAfterMessages())) return DropReason.WG_REPLAY.ordinal();
        WireGuardPeer peer = kp.peer;
        if (peer.removed()) return DropReason.UNKNOWN_PEER.ordinal();
        peer.receivedAuthenticated(kp, p.peerAddress(), p.peerPort(), len, now);

        int inner = off + MessageType.TRANSPORT_HEADER_LEN;
        int payload = len - MessageType.KEEPALIVE_LEN;
        if (payload == 0) { // keepalive
            p.release();
            return CONSUMED;
        }
        peer.timers.dataReceived(now);
        if ((seg.get(ValueLayout.JAVA_BYTE, inner) & 0xf0) != 0x40) return DropReason.NOT_IPV4.ordinal();
        if (payload < 20) return DropReason.TRUNCATED.ordinal();
        int totalLen = Short.toUnsignedInt(seg.get(U16, inner + 2));
        if (totalLen < 20 || totalLen > payload) return DropReason.BAD_TOTAL_LENGTH.ordinal();
        int src = seg.get(U32, inner + 12);
        if (allowedIps.lookup(src) != peer.id()) return DropReason.WG_NOT_ALLOWED_SOURCE.ordinal();
        // Opened: the AEAD vouched for every byte, so the TUN's writer need not check the inner checksums.
        p.setData(inner, totalLen).setAuthenticated(true);
        return FORWARD;
    }

    // --- timers ---------------------------------------------------------------------------

    /**
     * Fires every peer's due timers (retries, keepalives, rekeys, key expiry); what they send goes
     * through the output. Call it from one thread, often enough for the timers' precision (every
     * 50-100 ms is plenty; wireguard-go's own timers have jitter of a third of a second).
     *
     * @return nanoseconds until the earliest timer now armed (at most one second)
     */
    public long tick() {
        long now = clock.nanoTime();
        long earliest = now + 1_000_000_000L;
        for (int i = 0; i < peersById.length(); i++) {
            WireGuardPeer peer = peersById.get(i);
            if (peer == null) continue;
            peer.tick(now);
            long e = peer.timers.earliest();
            if (e != PeerTimers.OFF && e - earliest < 0) earliest = e;
        }
        return Math.max(0, earliest - now);
    }

    /** Removes every peer (releasing staged packets). The pool and the output stay the caller's. */
    @Override
    public synchronized void close() {
        for (WireGuardPeer peer : peers()) removePeer(peer.publicKey());
    }

    // --- for peers and handshakes ---------------------------------------------------------

    WireGuardConfig config() {
        return config;
    }

    WireGuardTimings timings() {
        return timings;
    }

    WireGuardClock clock() {
        return clock;
    }

    PacketPool pool() {
        return pool;
    }

    /** Takes one of the device's places for a staged packet; false when the staged packets of all peers hold their share of the pool. */
    boolean reserveStaged() {
        for (int n = stagedPackets.get(); n < stagedBudget; n = stagedPackets.get()) {
            if (stagedPackets.compareAndSet(n, n + 1)) return true;
        }
        return false;
    }

    /** {@code n} staged packets left their peer's queue (sent or dropped); negative: put back. */
    void unstaged(int n) {
        stagedPackets.addAndGet(-n);
    }

    /** Packets staged by all peers. */
    int stagedPackets() {
        return stagedPackets.get();
    }

    WireGuardOutput output() {
        return output;
    }

    IndexTable indexTable() {
        return indexTable;
    }

    /** Sends a handshake message made as bytes in a fresh buffer. */
    void sendMessage(byte[] msg, int address, int port) {
        PacketBuffer b = pool.acquire();
        if (b == null) {
            countDrop(DropReason.POOL_EXHAUSTED);
            return;
        }
        b.put(msg).setPeer(address, port);
        output.send(b);
    }

    void countEgress(int innerBytes) {
        synchronized (counters) {
            counters.countEgress(innerBytes);
        }
    }

    void countEgress(int packets, int innerBytes) {
        synchronized (counters) {
            counters.countEgress(packets, innerBytes);
        }
    }

    void countDrop(DropReason reason) {
        synchronized (counters) {
            counters.drop(reason);
        }
    }

    void countDrop(DropReason reason, int n) {
        synchronized (counters) {
            counters.drop(reason, n);
        }
    }
}
