package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.ChaCha20Poly1305;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The session keys of one completed handshake: a sending and a receiving ChaCha20 key, the next
 * sending counter, the receive replay window, and the indices both sides know the session by.
 *
 * <p>Threads: the keys and indices are final and published with the keypair (through the peer's
 * volatile keypair fields and the index table), so any thread may read them. The sending counter
 * is taken with an atomic getAndAdd, so several senders never reuse a nonce. The replay window
 * belongs to the receive thread alone.
 */
final class Keypair {
    private static final VarHandle SEND_COUNTER;

    static {
        try {
            SEND_COUNTER = MethodHandles.lookup().findVarHandle(Keypair.class, "sendCounter", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final WireGuardPeer peer;
    final int[] sendKey;
    final int[] receiveKey;
    /** Payloads of at least this many bytes go through the JDK's cipher ({@link TransportCipher#jdkFrom}). */
    final int jdkFrom;
    /** True if the rest go through the vector cipher, false for the scalar one ({@link TransportCipher#vector}). */
    final boolean vector;
    /** The same keys for the JDK's cipher; null when {@link #jdkFrom} says it is never used. */
    final javax.crypto.spec.SecretKeySpec sendKeySpec;
    final javax.crypto.spec.SecretKeySpec receiveKeySpec;
    final boolean initiator;
    final long createdNanos;
    final int localIndex;
    final int remoteIndex;
    final ReplayWindow replay = new ReplayWindow();
    /** Where the bytes sealed and opened with these keys count: the peer's device's (a keypair without a peer, its own). */
    final CipherCounts counts;
    @SuppressWarnings("unused") // through SEND_COUNTER
    private volatile long sendCounter;

    Keypair(WireGuardPeer peer, byte[] sendKey, byte[] receiveKey, TransportCipher cipher, boolean initiator, long createdNanos,
            int localIndex, int remoteIndex) {
        this.peer = peer;
        this.sendKey = ChaCha20Poly1305.key(sendKey, 0);
        this.receiveKey = ChaCha20Poly1305.key(receiveKey, 0);
        this.jdkFrom = cipher.jdkFrom();
        this.vector = cipher.vector();
        boolean jdk = jdkFrom != Integer.MAX_VALUE;
        this.sendKeySpec = jdk ? new javax.crypto.spec.SecretKeySpec(sendKey, "ChaCha20") : null;
        this.receiveKeySpec = jdk ? new javax.crypto.spec.SecretKeySpec(receiveKey, "ChaCha20") : null;
        this.initiator = initiator;
        this.createdNanos = createdNanos;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        this.counts = peer != null ? peer.device().cipherCounts() : new CipherCounts();
    }

    /** Takes the next sending counter (a nonce that is never handed out twice). */
    long nextSendCounter() {
        return (long) SEND_COUNTER.getAndAdd(this, 1L);
    }

    /** Takes {@code n} consecutive sending counters and returns the first (a train's, one per message). */
    long nextSendCounters(int n) {
        return (long) SEND_COUNTER.getAndAdd(this, (long) n);
    }

    /** The next counter {@link #nextSendCounter} would hand out. */
    long sendCounter() {
        return (long) SEND_COUNTER.getOpaque(this);
    }

    /** Makes the keypair unusable for sending (it stays valid for receiving until it ages out). */
    void exhaust(long rejectAfterMessages) {
        SEND_COUNTER.setVolatile(this, rejectAfterMessages);
    }

    /** True while this keypair may seal: younger than reject-after-time and counter below the limit. */
    boolean canSend(long now, WireGuardTimings t) {
        return now - createdNanos < t.rejectAfterTime() && Long.compareUnsigned(sendCounter(), t.rejectAfterMessages()) < 0;
    }

    /** True while this keypair may open: younger than reject-after-time. */
    boolean canReceive(long now, WireGuardTimings t) {
        return now - createdNanos < t.rejectAfterTime();
    }

    /** Indices only: keys never show. */
    @Override
    public String toString() {
        return "Keypair[local=" + Integer.toUnsignedString(localIndex) + " remote=" + Integer.toUnsignedString(remoteIndex)
                + (initiator ? " initiator" : " responder") + "]";
    }
}
