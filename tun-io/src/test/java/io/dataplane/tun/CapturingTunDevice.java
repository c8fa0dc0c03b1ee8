package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.spi.TunnelDevice;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A {@link TunnelDevice} that writes as a {@link TunDevice} with a virtio_net_hdr and
 * {@link TunOffload#TSO4} does, through the same {@link SegmentJoiner} and {@link VnetHeaderCodec},
 * into a list instead of a descriptor (and reads as it does, from a test's bytes): for each packet or joined super-packet the bytes the
 * {@code write} or {@code writev} would have carried, virtio_net_hdr first, beside copies of the
 * packets it was given, taken before any of them was written. Reads nothing; one writer.
 */
public final class CapturingTunDevice implements TunnelDevice {
    /** The packets one {@code write} or {@code writeTrain} call was given, and what went into the kernel for them. */
    public record Call(List<byte[]> given, int[] gsoSizes, List<Written> written) {}

    /**
     * One packet on the descriptor: the virtio_net_hdr and the packet behind it, made of {@code run}
     * given packets from {@code first} (1 if joined to none); {@code header} null where the codec
     * refused the packet and nothing was written.
     */
    public record Written(int first, int run, byte[] header, byte[] packet) {}

    private final String name;
    private final int mtu;
    private final VnetHeaderCodec codec;
    private final VnetHeaderCodec readCodec;
    private final SegmentJoiner joiner;
    private final List<Call> calls = new ArrayList<>();
    private long accepted;

    /** A device of {@code mtu} named {@code name}. */
    public CapturingTunDevice(String name, int mtu) {
        this.name = name;
        this.mtu = mtu;
        this.codec = new VnetHeaderCodec(name, true);
        this.joiner = new SegmentJoiner(codec);
        this.readCodec = new VnetHeaderCodec(name, true);
    }

    /** Every write so far, in order. */
    public List<Call> calls() {
        return calls;
    }

    /** Packets written so far, each of a joined super-packet counted (what the writes returned). */
    public long accepted() {
        return accepted;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public int batchSize() {
        return 64;
    }

    /** Reads nothing: {@link #read(PacketBuffer, byte[], byte[])} hands a test's packet over instead. */
    @Override
    public int read(PacketBuffer[] packets, int count) {
        return CLOSED;
    }

    /**
     * Leaves {@code b} as a {@link TunDevice#read} would after the kernel gave {@code packet}
     * behind the virtio_net_hdr {@code header} (its first {@link VirtioNetHeader#LENGTH} bytes,
     * zeros where shorter): the packet at the buffer's offset, the header in front, decoded (GSO
     * size set, a single packet's partial checksum completed).
     */
    public void read(PacketBuffer b, byte[] header, byte[] packet) {
        b.put(packet);
        MemorySegment.copy(Arrays.copyOf(header, VirtioNetHeader.LENGTH), 0, b.segment(), ValueLayout.JAVA_BYTE,
                b.offset() - VirtioNetHeader.LENGTH, VirtioNetHeader.LENGTH);
        readCodec.decode(b);
    }

    @Override
    public int write(PacketBuffer[] packets, int count) {
        Call call = given(count, i -> packets[i]);
        int written = 0;
        for (int i = 0; i < count; ) {
            int run = joiner.join(packets, i, count);
            written += run > 1 ? writeJoined(call, i, packets[i], run) : writeOne(call, i, packets[i]);
            i += run;
        }
        accepted += written;
        return written;
    }

    @Override
    public int writeTrain(PacketTrain train) {
        int count = train.count();
        Call call = given(count, train::select);
        int written = 0;
        for (int i = 0; i < count; ) {
            int run = joiner.join(train, i);
            PacketBuffer first = train.select(i);
            written += run > 1 ? writeJoined(call, i, first, run) : writeOne(call, i, first);
            i += run;
        }
        accepted += written;
        return written;
    }

    private Call given(int count, IntFunction<PacketBuffer> packet) {
        List<byte[]> bytes = new ArrayList<>(count);
        int[] gso = new int[count];
        for (int i = 0; i < count; i++) {
            PacketBuffer p = packet.apply(i);
            bytes.add(p.toByteArray());
            gso[i] = p.gsoSize();
        }
        Call call = new Call(bytes, gso, new ArrayList<>());
        calls.add(call);
        return call;
    }

    private int writeOne(Call call, int i, PacketBuffer b) {
        if (!codec.encode(b)) {
            call.written().add(new Written(i, 1, null, null));
            return 0;
        }
        byte[] all = slice(b.segment(), b.offset() - codec.length(), codec.length() + b.length());
        call.written().add(new Written(i, 1, Arrays.copyOf(all, codec.length()), Arrays.copyOfRange(all, codec.length(), all.length)));
        return 1;
    }

    // What writev would gather from the joiner's iovecs: the header and first packet, then each other's payload.
    private int writeJoined(Call call, int i, PacketBuffer first, int run) {
        long iovecs = joiner.finish(first);
        MemorySegment iov = MemorySegment.ofAddress(iovecs).reinterpret(16L * run);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int k = 0; k < run; k++) {
            long base = iov.get(ValueLayout.JAVA_LONG, 16L * k);
            long length = iov.get(ValueLayout.JAVA_LONG, 16L * k + 8);
            out.writeBytes(slice(MemorySegment.ofAddress(base).reinterpret(length), 0, (int) length));
        }
        byte[] all = out.toByteArray();
        call.written().add(new Written(i, run, Arrays.copyOf(all, codec.length()), Arrays.copyOfRange(all, codec.length(), all.length)));
        return run;
    }

    private static byte[] slice(MemorySegment s, long from, int length) {
        return s.asSlice(from, length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {}
}
