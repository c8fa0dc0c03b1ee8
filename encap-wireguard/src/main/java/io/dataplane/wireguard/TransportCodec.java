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
    /**
     * One message of this many per keypair takes the lanes' entry while they are cold (a power of two;
     * see {@link #lanes}): rare enough that the compiler does not inline the entry, whose branch on
     * the cold lanes would then be a trap in the caller (C2 inlines no call site below
     * {@code MinInlineFrequencyRatio}, 0.0085 of the caller's calls).
     */
    static final long PROBE_EVERY = 256;
    /** The code that sealed or opened, by the lanes' entry's answer: 0 the scalar code, 1 the lanes. */
    private static final TransportCipher[] LANES_OR_SCALAR = {TransportCipher.SEGMENT, TransportCipher.VECTOR};
    private static final ValueLayout.OfLong ZEROS = ValueLayout.JAVA_LONG_UNALIGNED;
    /** Per thread: when it last sealed or opened a short message. */
    private static final ThreadLocal<long[]> LAST_SHORT = ThreadLocal.withInitial(() -> new long[1]);

    private TransportCodec() {}

    /**
     * True if a payload of {@code len} padded bytes under {@code kp}, message {@code counter} of the
     * keypair, goes through the vector cipher now.
     *
     * <p>Written so that the optimising compiler meets no branch here or in its callers that it has
     * never seen taken when the vector cipher turns warm: the lengths' rule runs whether it is warm
     * or not, {@code isWarm()} enters only as a value, and while it is cold one message of every
     * {@value #PROBE_EVERY} takes the lanes' side anyway, where the vector class's entry hands it
     * to the scalar code until the lanes are warm ({@link VectorChaCha20Poly1305#sealTransportIfWarm}).
     * Were that side never taken before the compiler compiles {@code sealAt} and the receive path's
     * {@code open}, it would be a trap in their code, and the switch to the warm lanes would send
     * them back to the interpreter while the compiler has them to do again.
     */
    static boolean lanes(Keypair kp, int len, long counter) {
        if (!kp.vector) return false;
        boolean shape = len >= LANES_ALONE_FROM || burst();
        return shape && (VectorChaCha20Poly1305.isWarm() | probe(counter));
    }

    /** True if the short message this thread sealed or opens now follows its previous short one within {@link #BURST_NANOS}. */
    private static boolean burst() {
        long[] last = LAST_SHORT.get();
        long now = System.nanoTime();
        long previous = last[0];
        last[0] = now;
        return now - previous < BURST_NANOS;
    }

    /** True for one of every {@value #PROBE_EVERY} messages of a keypair (see {@link #lanes}). */
    private static boolean probe(long counter) {
        return (counter & (PROBE_EVERY - 1)) == PROBE_EVERY - 1;
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
        // The padding (0 to 15 bytes) zeroed as 16 bytes from len, without a loop: the bytes past
        // padded are the tag's, written after. A loop's branch would be one the compiled code meets
        // new when a flow's first segment that needs padding comes (full-size segments need none).
        seg.set(ZEROS, off + len, 0L);
        seg.set(ZEROS, off + len + Long.BYTES, 0L);
        TransportCipher code;
        if (padded >= kp.jdkFrom) {
            JdkTransportCipher.seal(kp.sendKeySpec, counter, seg, off, padded);
            code = TransportCipher.JDK;
        } else if (lanes(kp, padded, counter)) {
            code = LANES_OR_SCALAR[VectorChaCha20Poly1305.sealTransportIfWarm(kp.sendKey, counter, seg, off, padded)];
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
        } else if (lanes(kp, ctLen, counter)) {
            int r = VectorChaCha20Poly1305.openTransportIfWarm(kp.receiveKey, counter, seg, off, ctLen);
            ok = (r & VectorChaCha20Poly1305.OPENED) != 0;
            code = LANES_OR_SCALAR[r / VectorChaCha20Poly1305.BY_LANES];
        } else {
            ok = ChaCha20Poly1305.openTransport(kp.receiveKey, counter, seg, off, ctLen);
            code = TransportCipher.SEGMENT;
        }
        kp.counts.opened(code, ctLen);
        return ok ? -1 : DropReason.WG_DECRYPT_FAILED.ordinal();
    }
}
