package io.dataplane.wireguard;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A peer's five protocol timers (whitepaper section 6, wireguard-go's timers.go) as deadlines that
 * {@link WireGuardDevice#tick} checks, instead of one scheduled task each: no thread of our own and
 * no allocation when a timer is re-armed.
 *
 * <ul>
 *   <li>retransmit handshake: rekey-timeout (+ jitter) after an initiation; resend, or give up after
 *       {@link WireGuardTimings#maxTimerHandshakes()} tries;
 *   <li>send keepalive: keepalive-timeout after data arrived if we sent nothing since;
 *   <li>new handshake: keepalive + rekey timeout (+ jitter) after data was sent if nothing came back;
 *   <li>zero key material: 3 x reject-after-time after the last session was derived;
 *   <li>persistent keepalive: the configured interval after any authenticated packet.
 * </ul>
 *
 * <p>Threads: events come from the TUN reader (data sent), the receiver (data received, handshake
 * messages) and the timer thread (expiry). Each deadline is an {@link AtomicLong}; an event only
 * writes when it changes something, so a busy session mostly reads; expiry clears a deadline with
 * compare-and-set so a deadline moved meanwhile is not lost.
 */
final class PeerTimers {
    /** A deadline that is not armed. */
    static final long OFF = Long.MIN_VALUE;

    final AtomicLong retransmitHandshake = new AtomicLong(OFF);
    final AtomicLong sendKeepalive = new AtomicLong(OFF);
    final AtomicLong newHandshake = new AtomicLong(OFF);
    final AtomicLong zeroKeyMaterial = new AtomicLong(OFF);
    final AtomicLong persistentKeepalive = new AtomicLong(OFF);
    final AtomicInteger handshakeAttempts = new AtomicInteger();
    volatile boolean needAnotherKeepalive;
    volatile boolean sentLastMinuteHandshake;
    private final WireGuardTimings t;
    private volatile long persistentKeepaliveNanos;

    PeerTimers(WireGuardTimings timings, int persistentKeepaliveSeconds) {
        this.t = timings;
        this.persistentKeepaliveNanos = persistentKeepaliveSeconds * 1_000_000_000L;
    }

    static boolean pending(AtomicLong timer) {
        return timer.get() != OFF;
    }

    static void del(AtomicLong timer) {
        if (timer.getPlain() != OFF) timer.set(OFF);
    }

    /** True, and the timer disarmed, if {@code timer} is armed and due at {@code now}; only one caller wins. */
    static boolean expire(AtomicLong timer, long now) {
        long d = timer.get();
        return d != OFF && now - d >= 0 && timer.compareAndSet(d, OFF);
    }

    private long jitter() {
        long max = t.rekeyTimeoutJitterMax();
        return max == 0 ? 0 : ThreadLocalRandom.current().nextLong(max);
    }

    void setPersistentKeepalive(int seconds) {
        persistentKeepaliveNanos = seconds * 1_000_000_000L;
        if (seconds == 0) del(persistentKeepalive);
    }

    long persistentKeepaliveNanos() {
        return persistentKeepaliveNanos;
    }

    /** After an authenticated data packet was sent. */
    void dataSent(long now) {
        if (!pending(newHandshake)) newHandshake.set(now + t.keepaliveTimeout() + t.rekeyTimeout() + jitter());
    }

    /** After an authenticated data packet was received. */
    void dataReceived(long now) {
        if (!pending(sendKeepalive)) {
            sendKeepalive.set(now + t.keepaliveTimeout());
        } else if (!needAnotherKeepalive) {
            needAnotherKeepalive = true;
        }
    }

    /** After any authenticated packet (keepalive, data, handshake) was sent. */
    void anyAuthenticatedPacketSent() {
        del(sendKeepalive);
    }

    /** After any authenticated packet was received. */
    void anyAuthenticatedPacketReceived() {
        del(newHandshake);
    }

    /** Before an authenticated packet is sent or after one is received: re-arms the persistent keepalive. */
    void anyAuthenticatedPacketTraversal(long now) {
        long interval = persistentKeepaliveNanos;
        if (interval > 0) {
            long d = now + interval;
            // Re-arm at most once a millisecond: a busy session would otherwise write this on every packet.
            long cur = persistentKeepalive.getPlain();
            if (cur == OFF || d - cur > 1_000_000L) persistentKeepalive.set(d);
        }
    }

    /** After an initiation was sent. */
    void handshakeInitiated(long now) {
        retransmitHandshake.set(now + t.rekeyTimeout() + jitter());
    }

    /** After a response was consumed, or the first data arrived under a new responder keypair. */
    void handshakeComplete() {
        del(retransmitHandshake);
        handshakeAttempts.set(0);
        sentLastMinuteHandshake = false;
    }

    /** After a session was derived (response sent or consumed). */
    void sessionDerived(long now) {
        zeroKeyMaterial.set(now + 3 * t.rejectAfterTime());
    }

    /** Disarms everything (peer removed). */
    void stop() {
        del(retransmitHandshake);
        del(sendKeepalive);
        del(newHandshake);
        del(zeroKeyMaterial);
        del(persistentKeepalive);
    }

    /** The earliest armed deadline, or {@link #OFF}. */
    long earliest() {
        long e = earlier(OFF, retransmitHandshake.get());
        e = earlier(e, sendKeepalive.get());
        e = earlier(e, newHandshake.get());
        e = earlier(e, zeroKeyMaterial.get());
        return earlier(e, persistentKeepalive.get());
    }

    private static long earlier(long a, long b) {
        if (a == OFF) return b;
        if (b == OFF) return a;
        return b - a < 0 ? b : a;
    }
}
