package io.dataplane.wireguard;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.stats.DropReason;
import io.dataplane.wireguard.crypto.ChaCha20Poly1305;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Transport data in place in a {@link PacketBuffer}: sealing prepends the 16-byte header into the
 * headroom, zero-pads the inner packet to a multiple of 16 (never beyond the MTU) and appends the
 * tag into the tailroom; opening verifies and decrypts where the bytes are and leaves the data
 * pointing at the ciphertext. No allocation, no copy. The vector cipher takes over from the scalar
 * one (the same bytes) once {@link VectorChaCha20Poly1305#isWarm}.
 *
 * <p>A short message on its own (a ping, a keepalive, an acknowledgement now and then) takes the
 * scalar cipher even then: the lanes compute a whole pass of blocks however few the message needs,
 * and their code and tables are large, so after a pause, with the caches taken by other work and
 * the packet path's code not yet at the optimising compiler's tier, one pass costs many times the
 * scalar cipher's few blocks. Short messages that come in a burst (within {@link #BURST_NANOS} of
 * the thread's previous one), as a flood of small datagrams does, take the lanes, which are faster
 * there. Long messages always take them. The device counts the bytes each code sealed and opened
 * ({@link WireGuardDevice#transportBytes}).
 */
final class TransportCodec {
    /** Payloads from this many bytes on take the vector cipher even on their own (where the cipher has it). */
    static final int LANES_ALONE_FROM = 256;
    /** A short message this close behind the thread's previous one is part of a burst. */
    static final long BURST_NANOS = 100_000;
    /** Per thread: when it last sealed or opened a short message. */
    private static final ThreadLocal<long[]> LAST_SHORT = ThreadLocal.withInitial(() -> new long[1]);

    private TransportCodec() {}

    /** True if a payload of {@code len} padded bytes under {@code kp} goes through the vector cipher now. */
    static boolean lanes(Keypair kp, int len) {
        if (!kp.vector || !VectorChaCha20Poly1305.isWarm()) return false;
        if (len >= LANES_ALONE_FROM) return true;
        long[] last = LAST_SHORT.get();
        long now = System.nanoTime();
        long previous = last[0];
        last[0] = now;
        return now - previous < BURST_NANOS;
    }

    /** Payload length after padding: up to a multiple of 16, but not past the MTU (as wireguard-go). */
    static int paddedLength(int len, int mtu) {
        int padded = (len + MessageType.PADDING_MULTIPLE - 1) & -MessageType.PADDING_MULTIPLE;
        return len > mtu ? padded : Math.min(padded, mtu);
    }

    /** True if {@code p} has the headroom and tailroom to be sealed in place. */
    static boolean fits(PacketBuffer p, int mtu) {
        int len = p.length();
        return p.offset() >= MessageType.TRANSPORT_HEADER_LEN
                && p.tailroom() >= paddedLength(len, mtu) - len + MessageType.TAG_LEN;
    }

    /**
     * Seals the inner packet of {@code p} as transport message {@code counter} for {@code kp}; the
     * caller checked {@link #fits}. Afterwards the data is the whole message.
     */
    static void seal(Keypair kp, long counter, PacketBuffer p, int mtu) {
        MemorySegment seg = p.segment();
        int off = p.offset();
        int len = p.length();
        int padded = paddedLength(len, mtu);
        sealAt(kp, counter, seg, off, len, padded);
        p.append(padded - len + MessageType.TAG_LEN);
        p.prepend(MessageType.TRANSPORT_HEADER_LEN);
    }

    /**
     * Seals the {@code len} bytes of inner packet at {@code off} in {@code seg} as transport message
     * {@code counter}: zero padding up to {@code padded}, the tag after it, the header in the 16
     * bytes before {@code off}. Afterwards {@code [off - 16, off + padded + 16)} is the message.
     */
    static void sealAt(Keypair kp, long counter, MemorySegment seg, long off, int len, int padded) {
        for (int i = len; i < padded; i++) seg.set(ValueLayout.JAVA_BYTE, off + i, (byte) 0);
        TransportCipher code;
        if (padded >= kp.jdkFrom) {
            JdkTransportCipher.seal(kp.sendKeySpec, counter, seg, off, padded);
            code = TransportCipher.JDK;
        } else if (lanes(kp, padded)) {
            VectorChaCha20Poly1305.sealTransport(kp.sendKey, counter, seg, off, padded);
            code = TransportCipher.VECTOR;
        } else {
            ChaCha20Poly1305.sealTransport(kp.sendKey, counter, seg, off, padded);
            code = TransportCipher.SEGMENT;
        }
        kp.counts.sealed(code, padded);
        TransportHeader.emit(seg, off - MessageType.TRANSPORT_HEADER_LEN, kp.remoteIndex, counter);
    }

    /**
     * Opens transport message {@code counter} in {@code p} (data = the whole message) with {@code kp}:
     * on success the payload bytes after the header are plaintext and the result is -1; else the
     * ordinal of {@link DropReason#WG_DECRYPT_FAILED}.
     */
    static int open(Keypair kp, long counter, PacketBuffer p) {
        MemorySegment seg = p.segment();
        int ctLen = p.length() - MessageType.KEEPALIVE_LEN;
        long off = p.offset() + MessageType.TRANSPORT_HEADER_LEN;
        boolean ok;
        TransportCipher code;
        if (ctLen >= kp.jdkFrom) {
            ok = JdkTransportCipher.open(kp.receiveKeySpec, counter, seg, off, ctLen);
            code = TransportCipher.JDK;
        } else if (lanes(kp, ctLen)) {
            ok = VectorChaCha20Poly1305.openTransport(kp.receiveKey, counter, seg, off, ctLen);
            code = TransportCipher.VECTOR;
        } else {
            ok = ChaCha20Poly1305.openTransport(kp.receiveKey, counter, seg, off, ctLen);
            code = TransportCipher.SEGMENT;
        }
        kp.counts.opened(code, ctLen);
        return ok ? -1 : DropReason.WG_DECRYPT_FAILED.ordinal();
    }
}
