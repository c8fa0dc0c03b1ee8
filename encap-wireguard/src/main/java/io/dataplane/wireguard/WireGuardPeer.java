package io.dataplane.wireguard;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One peer of a {@link WireGuardDevice}: its identity and endpoint, its handshake, its keypairs
 * (previous, current, next, as whitepaper section 6 rotates them), its queue of packets waiting for
 * a session, and its timers.
 *
 * <p>Threads. The established data path takes no lock: {@link #current} and {@link #next} are
 * volatile and read once per packet, the sending counter is atomic, the endpoint is one volatile
 * long. Everything else that changes (the handshake, the rotation of keypairs, the staged queue)
 * is guarded by {@link #lock}, taken only to stage a packet, to handshake, to promote a keypair, and
 * by the timers.
 */
public final class WireGuardPeer {
    private final WireGuardDevice device;
    private final int id;
    private final NoisePublicKey publicKey;
    private volatile List<Ipv4Prefix> allowedIps;
    private final PresharedKey presharedKey;
    final ReentrantLock lock = new ReentrantLock();
    final NoiseHandshake handshake;
    final CookieGenerator cookieGenerator;
    final PeerTimers timers;

    volatile Keypair current;
    volatile Keypair next;
    private Keypair previous; // under lock
    private final ArrayDeque<PacketBuffer> staged = new ArrayDeque<>(); // under lock
    /** True while one thread sends what was staged; others stage behind it so that order holds. Under lock. */
    private boolean flushing;
    /** Packets staged, plus one while a flush is under way: the lock-free fast path seals only when it is 0. */
    private volatile int stagedCount;
    private volatile long endpoint; // address << 16 | port; 0 when unknown
    private volatile boolean sentHandshake;
    private volatile long lastSentHandshakeNanos;
    private volatile long lastHandshakeEpochNanos;
    private volatile boolean removed;
    private final LongAdder rxBytes = new LongAdder();
    private final LongAdder txBytes = new LongAdder();

    WireGuardPeer(WireGuardDevice device, int id, PeerConfig config) {
        this.device = device;
        this.id = id;
        this.publicKey = config.publicKey();
        this.allowedIps = config.allowedIps();
        this.presharedKey = config.presharedKey();
        this.handshake = new NoiseHandshake(device.config().privateKey(), config.publicKey(), config.presharedKey());
        this.cookieGenerator = new CookieGenerator(config.publicKey());
        this.timers = new PeerTimers(device.timings(), config.persistentKeepaliveSeconds());
        if (config.endpointPort() != 0) setEndpoint(config.endpointAddress(), config.endpointPort());
    }

    /** The id the allowed-IPs table maps this peer's prefixes to (the encap next hop). */
    public int id() {
        return id;
    }

    /** The peer's public key. */
    public NoisePublicKey publicKey() {
        return publicKey;
    }

    /** The prefixes routed to this peer. */
    public List<Ipv4Prefix> allowedIps() {
        return allowedIps;
    }

    /** The underlay IPv4 address packets go to (0 while unknown); follows the peer when it roams. */
    public int endpointAddress() {
        return (int) (endpoint >>> 16);
    }

    /** The underlay UDP port packets go to (0 while unknown). */
    public int endpointPort() {
        return (int) (endpoint & 0xffff);
    }

    /** Wall-clock time of the last completed handshake (nanoseconds since 1970), 0 if none. */
    public long lastHandshakeEpochNanos() {
        return lastHandshakeEpochNanos;
    }

    /** Transport bytes received (whole messages). */
    public long rxBytes() {
        return rxBytes.sum();
    }

    /** Transport bytes sent (whole messages). */
    public long txBytes() {
        return txBytes.sum();
    }

    /** True while a keypair can seal for this peer. */
    public boolean hasSession() {
        Keypair kp = current;
        return kp != null && kp.canSend(device.clock().nanoTime(), device.timings());
    }

    /** Packets waiting for a handshake. */
    public int stagedPackets() {
        lock.lock();
        try {
            return staged.size();
        } finally {
            lock.unlock();
        }
    }

    /** Sets the persistent keepalive interval in seconds (0 turns it off). */
    public void setPersistentKeepalive(int seconds) {
        if (seconds < 0 || seconds > 65535) {
            throw new IllegalArgumentException("persistent keepalive out of range: " + seconds + " (0-65535 s)");
        }
        timers.setPersistentKeepalive(seconds);
        if (seconds > 0) timers.anyAuthenticatedPacketTraversal(device.clock().nanoTime());
    }

    /**
     * Starts a handshake now, as a first packet or an expired session would; does nothing when an
     * initiation went out less than the rekey timeout ago. What it sends goes through the output.
     */
    public void initiateHandshake() {
        sendInitiation(false, device.clock().nanoTime());
    }

    /** The preshared key this peer was configured with (never printed). */
    PresharedKey presharedKey() {
        return presharedKey;
    }

    void setAllowedIps(List<Ipv4Prefix> prefixes) {
        allowedIps = prefixes;
    }

    void setEndpoint(int address, int port) {
        long packed = (address & 0xffffffffL) << 16 | (port & 0xffff);
        if (endpoint != packed) endpoint = packed;
    }

    WireGuardDevice device() {
        return device;
    }

    boolean removed() {
        return removed;
    }

    // --- sending --------------------------------------------------------------------------

    /**
     * Seals {@code p} for this peer, or stages it and starts a handshake when there is no usable
     * session. The encap path: lock-free when a session is up and nothing is staged.
     */
    int send(PacketBuffer p, long now) {
        Keypair kp = current;
        if (stagedCount == 0 && kp != null && kp.canSend(now, device.timings())) {
            int v = sealOne(kp, p, now);
            if (v != RESTAGE) return v;
        }
        stage(p);
        sendStaged(now);
        return Encapsulation.CONSUMED;
    }

    private static final int RESTAGE = -100;

    /**
     * Seals one packet with {@code kp}, or a TCP super-packet as the train of its segments' messages
     * ({@link TrainSealer}): FORWARD, a drop reason, or RESTAGE when the keypair just ran out of counters.
     */
    private int sealOne(Keypair kp, PacketBuffer p, long now) {
        long ep = endpoint;
        if (ep == 0) return DropReason.WG_NO_SESSION.ordinal();
        int mtu = device.config().mtu();
        TrainSealer train = null;
        int messages = 1;
        if (p.gsoSize() != 0) {
            train = TrainSealer.get();
            int bad = train.prepare(p, mtu);
            if (bad >= 0) return bad;
            messages = train.segments();
        } else if (!TransportCodec.fits(p, mtu)) {
            return DropReason.NO_ROOM.ordinal();
        }
        WireGuardTimings t = device.timings();
        long first = messages == 1 ? kp.nextSendCounter() : kp.nextSendCounters(messages);
        long counter = first + messages - 1; // the last one taken
        if (Long.compareUnsigned(counter, t.rejectAfterMessages()) >= 0 || Long.compareUnsigned(counter, first) < 0) {
            kp.exhaust(t.rejectAfterMessages());
            return RESTAGE;
        }
        boolean data = p.length() > 0;
        if (train != null) {
            train.seal(kp, first, p, mtu);
        } else {
            TransportCodec.seal(kp, first, p, mtu);
        }
        p.setPeer((int) (ep >>> 16), (int) (ep & 0xffff));
        txBytes.add(p.length());
        timers.anyAuthenticatedPacketTraversal(now);
        timers.anyAuthenticatedPacketSent();
        if (data) timers.dataSent(now);
        // keep key fresh: the initiator rekeys after REKEY_AFTER_TIME, anyone after REKEY_AFTER_MESSAGES
        if (Long.compareUnsigned(counter, t.rekeyAfterMessages()) > 0 || (kp.initiator && now - kp.createdNanos > t.rekeyAfterTime())) {
            sendInitiation(false, now);
        }
        return Encapsulation.FORWARD;
    }

    /**
     * Queues {@code p} until a session exists; the oldest queued packet goes when the queue is full,
     * or when the staged packets of all peers hold their share of the pool ({@link
     * WireGuardDevice#reserveStaged}): then this peer's oldest, or {@code p} itself if it has none.
     */
    private void stage(PacketBuffer p) {
        PacketBuffer evicted = null;
        lock.lock();
        try {
            if (staged.size() < device.config().stagedQueueSize() && device.reserveStaged()) {
                staged.addLast(p);
            } else {
                evicted = staged.pollFirst();
                if (evicted == null) {
                    evicted = p;
                } else {
                    staged.addLast(p);
                }
            }
            stagedCount = staged.size() + (flushing ? 1 : 0);
        } finally {
            lock.unlock();
        }
        if (evicted != null) {
            evicted.release();
            device.countDrop(DropReason.WG_NO_SESSION);
        }
    }

    /**
     * Sends every staged packet if a session is usable, else starts a handshake (wireguard-go's
     * SendStagedPackets). One thread flushes at a time and keeps going until the queue is empty,
     * while the others (and the lock-free fast path, which sees {@link #stagedCount} above 0) queue
     * behind it: packets leave in the order they came, also while a new session takes over.
     */
    void sendStaged(long now) {
        if (stagedCount == 0) return;
        Keypair kp;
        PacketBuffer[] batch;
        lock.lock();
        try {
            if (flushing) return; // the flushing thread takes what was staged
            kp = current;
            if (kp == null || !kp.canSend(now, device.timings()) || staged.isEmpty()) {
                batch = null;
            } else {
                batch = drainStaged();
                flushing = true;
                stagedCount = 1;
            }
        } finally {
            lock.unlock();
        }
        if (batch == null) {
            if (stagedCount > 0) sendInitiation(false, now);
            return;
        }
        while (batch != null) {
            for (int i = 0; i < batch.length; i++) {
                PacketBuffer p = batch[i];
                int inner = p.length();
                boolean superPacket = p.gsoSize() != 0;
                int v = sealOne(kp, p, now);
                if (v == Encapsulation.FORWARD) {
                    // The pipeline took this packet as consumed when it was staged: its egress is counted here.
                    if (superPacket) {
                        TrainSealer train = TrainSealer.get();
                        device.countEgress(train.segments(), train.innerBytes());
                    } else if (inner > 0) {
                        device.countEgress(inner);
                    }
                    device.output().send(p);
                } else if (v == RESTAGE) {
                    // The keypair ran out of counters: put the rest back in front, in order, and rekey.
                    lock.lock();
                    try {
                        for (int j = batch.length - 1; j >= i; j--) staged.addFirst(batch[j]);
                        device.unstaged(-(batch.length - i));
                        flushing = false;
                        stagedCount = staged.size();
                    } finally {
                        lock.unlock();
                    }
                    sendInitiation(false, now);
                    return;
                } else {
                    p.release();
                    device.countDrop(DropReason.of(v));
                }
            }
            lock.lock();
            try {
                if (staged.isEmpty()) {
                    flushing = false;
                    stagedCount = 0;
                    batch = null;
                } else {
                    batch = drainStaged();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private PacketBuffer[] drainStaged() {
        PacketBuffer[] batch = staged.toArray(new PacketBuffer[0]);
        staged.clear();
        device.unstaged(batch.length);
        return batch;
    }

    /** Sends an empty transport message (or whatever is staged), starting a handshake if needed. */
    void sendKeepalive(long now) {
        if (stagedCount == 0) {
            PacketBuffer b = device.pool().acquire();
            if (b == null) {
                device.countDrop(DropReason.POOL_EXHAUSTED);
                return;
            }
            b.setLength(0);
            stage(b);
        }
        sendStaged(now);
    }

    /**
     * Creates and sends a handshake initiation, at most one per rekey-timeout. A call that is not a
     * retry resets the attempt count (as wireguard-go's SendHandshakeInitiation).
     */
    void sendInitiation(boolean retry, long now) {
        if (!retry && timers.handshakeAttempts.getPlain() != 0) timers.handshakeAttempts.set(0);
        WireGuardTimings t = device.timings();
        if (sentHandshake && now - lastSentHandshakeNanos < t.rekeyTimeout()) return;
        byte[] msg;
        long ep;
        lock.lock();
        try {
            if (removed || (sentHandshake && now - lastSentHandshakeNanos < t.rekeyTimeout())) return;
            lastSentHandshakeNanos = now;
            sentHandshake = true;
            IndexTable table = device.indexTable();
            table.remove(handshake.localIndex);
            handshake.localIndex = 0;
            int index = table.allocate(this);
            if (index == 0) return;
            msg = handshake.createInitiation(index, device.clock().epochNanos());
            if (msg == null) {
                table.remove(index);
                return;
            }
            cookieGenerator.addMacs(msg, now, t);
            ep = endpoint;
        } finally {
            lock.unlock();
        }
        timers.anyAuthenticatedPacketTraversal(now);
        timers.anyAuthenticatedPacketSent();
        if (ep != 0) device.sendMessage(msg, (int) (ep >>> 16), (int) (ep & 0xffff));
        timers.handshakeInitiated(now);
    }

    // --- receiving ------------------------------------------------------------------------

    /**
     * After a transport message authenticated under {@code kp} from {@code address:port}: promotes
     * the responder's next keypair on its first use, follows the endpoint, keeps the key fresh and
     * drives the timers (wireguard-go's RoutineSequentialReceiver).
     */
    void receivedAuthenticated(Keypair kp, int address, int port, int messageLen, long now) {
        if (next == kp) promote(kp, now);
        setEndpoint(address, port);
        rxBytes.add(messageLen);
        WireGuardTimings t = device.timings();
        if (!timers.sentLastMinuteHandshake) {
            Keypair cur = current;
            if (cur != null && cur.initiator && now - cur.createdNanos > t.rejectAfterTime() - t.keepaliveTimeout() - t.rekeyTimeout()) {
                timers.sentLastMinuteHandshake = true;
                sendInitiation(false, now);
            }
        }
        timers.anyAuthenticatedPacketTraversal(now);
        timers.anyAuthenticatedPacketReceived();
    }

    private void promote(Keypair kp, long now) {
        lock.lock();
        try {
            if (next != kp) return;
            remove(previous);
            previous = current;
            current = kp;
            next = null;
        } finally {
            lock.unlock();
        }
        handshakeComplete();
        sendStaged(now);
    }

    void handshakeComplete() {
        timers.handshakeComplete();
        lastHandshakeEpochNanos = device.clock().epochNanos();
    }

    /**
     * Derives the keypair of the finished handshake and rotates it in (wireguard-go's
     * BeginSymmetricSession): the initiator uses it at once as current; the responder keeps it as
     * next until the initiator's first transport message confirms it. Caller holds {@link #lock}.
     */
    Keypair installKeypair(long now) {
        Keypair kp = handshake.deriveKeypair(this, now);
        if (kp == null) return null;
        device.indexTable().replace(kp.localIndex, kp);
        Keypair prev = previous;
        Keypair nxt = next;
        Keypair cur = current;
        if (kp.initiator) {
            if (nxt != null) {
                next = null;
                previous = nxt;
                remove(cur);
            } else {
                previous = cur;
            }
            remove(prev);
            current = kp;
        } else {
            next = kp;
            remove(nxt);
            previous = null;
            remove(prev);
        }
        return kp;
    }

    private void remove(Keypair kp) {
        if (kp != null) device.indexTable().remove(kp.localIndex);
    }

    void markHandshakeSent(long now) {
        lastSentHandshakeNanos = now;
        sentHandshake = true;
    }

    // --- timers and teardown --------------------------------------------------------------

    /** Fires the timers due at {@code now}. Called by {@link WireGuardDevice#tick} only. */
    void tick(long now) {
        WireGuardTimings t = device.timings();
        if (PeerTimers.expire(timers.retransmitHandshake, now)) {
            if (timers.handshakeAttempts.get() > t.maxTimerHandshakes()) {
                PeerTimers.del(timers.sendKeepalive);
                flushStaged(DropReason.WG_NO_SESSION);
                if (!PeerTimers.pending(timers.zeroKeyMaterial)) timers.zeroKeyMaterial.set(now + 3 * t.rejectAfterTime());
            } else {
                timers.handshakeAttempts.incrementAndGet();
                sendInitiation(true, now);
            }
        }
        if (PeerTimers.expire(timers.sendKeepalive, now)) {
            sendKeepalive(now);
            if (timers.needAnotherKeepalive) {
                timers.needAnotherKeepalive = false;
                timers.sendKeepalive.set(now + t.keepaliveTimeout());
            }
        }
        if (PeerTimers.expire(timers.newHandshake, now)) sendInitiation(false, now);
        if (PeerTimers.expire(timers.zeroKeyMaterial, now)) zeroAndFlushAll();
        if (PeerTimers.expire(timers.persistentKeepalive, now) && timers.persistentKeepaliveNanos() > 0) sendKeepalive(now);
    }

    /** Drops every keypair, the handshake in progress and the staged packets (wireguard-go's ZeroAndFlushAll). */
    void zeroAndFlushAll() {
        lock.lock();
        try {
            remove(previous);
            remove(current);
            remove(next);
            previous = null;
            current = null;
            next = null;
            device.indexTable().remove(handshake.localIndex);
            handshake.clear();
        } finally {
            lock.unlock();
        }
        flushStaged(DropReason.WG_NO_SESSION);
    }

    /** Releases every staged packet, counting each under {@code reason}. */
    void flushStaged(DropReason reason) {
        int n = 0;
        lock.lock();
        try {
            PacketBuffer p;
            while ((p = staged.pollFirst()) != null) {
                p.release();
                n++;
            }
            device.unstaged(n);
            stagedCount = flushing ? 1 : 0;
        } finally {
            lock.unlock();
        }
        if (n > 0) device.countDrop(reason, n);
    }

    /** Stops the peer for good: timers off, keys and staged packets gone. */
    void close() {
        removed = true;
        timers.stop();
        zeroAndFlushAll();
    }

    /** Public key and endpoint; never key material. */
    @Override
    public String toString() {
        return "peer(" + publicKey + " id=" + id + " endpoint=" + Ipv4Address.toString(endpointAddress()) + ":" + endpointPort() + ")";
    }
}
