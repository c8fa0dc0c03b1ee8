package io.dataplane.transport.netty;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.netty.buffer.AbstractReferenceCountedByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

/**
 * The buffer Netty's epoll datagram channel reads into: a row of up to {@code batchSize} pool
 * buffers that looks to Netty like one buffer of {@code armed * slotSize} bytes.
 *
 * <p>Why: with {@code MAX_DATAGRAM_PAYLOAD_SIZE} set, Netty 4.2's {@code EpollDatagramChannel}
 * allocates one buffer per read, cuts it into {@code writableBytes / slotSize} chunks of
 * {@code slotSize} bytes, passes one iovec per chunk to recvmmsg, and hands each datagram up as
 * {@code buffer.retainedSlice(k * slotSize, length)}. This class makes every chunk a different
 * {@link PacketBuffer}: {@link #nioBuffers} maps chunk {@code k} to slot {@code k}'s memory from the
 * pool's headroom to its end, and {@link #retainedSlice} answers with slot {@code k}'s own
 * {@link PacketByteBuf}, so each datagram lands in its own pool buffer at the headroom and is never
 * copied. {@code slotSize} is therefore {@code bufferSize - headroom}.
 *
 * <p>Ownership: armed slots belong to this buffer; {@code retainedSlice} moves one to Netty (and so
 * to our handler). Slots a read did not fill stay armed for the next read instead of going back to
 * the pool, so a read of one datagram costs one pool acquire, not {@code batchSize}. When the pool
 * is dry, the buffer arms one scratch slot instead, so the socket is still drained and the datagram
 * counted as {@code POOL_EXHAUSTED} rather than left to spin the event loop. Event loop only.
 *
 * <p>Only the methods Netty's receive path calls are implemented; the bytes themselves are read
 * through the slot views it hands out, so every data accessor throws.
 */
final class RecvBatchByteBuf extends AbstractReferenceCountedByteBuf {
    private static final ByteBuffer[] NO_BUFFERS = new ByteBuffer[0];

    private final PacketPool pool;
    private final ByteBufAllocator alloc;
    private final int headroom;
    private final int slotSize;
    private final PacketByteBuf[] slots;
    private final PacketByteBuf scratch;
    private int armed;
    private boolean scratchMode;
    private int capacity;

    /**
     * A receive buffer of up to {@code batchSize} buffers of {@code pool}; {@code scratch} is a view of
     * {@code pool.bufferSize() - pool.headroom()} bytes used only when the pool is dry.
     */
    RecvBatchByteBuf(PacketPool pool, int batchSize, PacketByteBuf scratch, ByteBufAllocator alloc) {
        super(batchSize * (pool.bufferSize() - pool.headroom()));
        this.pool = pool;
        this.alloc = alloc;
        this.headroom = pool.headroom();
        this.slotSize = pool.bufferSize() - pool.headroom();
        this.slots = new PacketByteBuf[batchSize];
        this.scratch = scratch;
        setRefCnt(0);
    }

    /** Bytes a datagram may have in one slot; a datagram this long may have been cut short. */
    int slotSize() {
        return slotSize;
    }

    /**
     * Readies the buffer for one read: keeps the slots the last read did not use, tops them up from the
     * pool, and falls back to the scratch slot when the pool has none. Returns this with one reference.
     */
    RecvBatchByteBuf arm() {
        int n = 0;
        for (int i = 0; i < armed; i++) {
            PacketByteBuf slot = slots[i];
            slots[i] = null;
            if (slot != null) slots[n++] = slot;
        }
        while (n < slots.length) {
            PacketBuffer b = pool.acquire();
            if (b == null) break;
            slots[n++] = PacketByteBuf.of(b, alloc);
        }
        armed = n;
        scratchMode = n == 0;
        capacity = scratchMode ? slotSize : n * slotSize;
        resetRefCnt();
        setIndex(0, 0);
        return this;
    }

    /** True when this read goes into the scratch slot because the pool was dry. */
    boolean isScratch() {
        return scratchMode;
    }

    /** Returns every armed buffer to the pool (at close, on the event loop or after it stopped). */
    int releaseArmed() {
        int n = 0;
        for (int i = 0; i < armed; i++) {
            PacketByteBuf slot = slots[i];
            if (slot != null) {
                slots[i] = null;
                slot.packet().release();
                n++;
            }
        }
        armed = 0;
        capacity = 0;
        return n;
    }

    /**
     * Hands slot {@code index / slotSize} to Netty as the datagram that recvmmsg wrote into it. Netty
     * calls this once per received datagram, at the start of that datagram's chunk.
     */
    @Override
    public ByteBuf retainedSlice(int index, int length) {
        if (scratchMode) {
            if (index != 0 || length > slotSize) throw badSlice(index, length);
            return scratch.claim(0, length);
        }
        int k = index / slotSize;
        if (index % slotSize != 0 || k >= armed || slots[k] == null || length < 0 || length > slotSize) {
            throw badSlice(index, length);
        }
        PacketByteBuf slot = slots[k];
        slots[k] = null;
        return slot.claim(headroom, headroom + length);
    }

    private IllegalStateException badSlice(int index, int length) {
        return new IllegalStateException("receive slice not on a slot boundary or slot already taken: index=" + index
                + " length=" + length + " slotSize=" + slotSize + " armed=" + armed + " scratch=" + scratchMode);
    }

    @Override
    public int nioBufferCount() {
        return scratchMode ? 1 : armed;
    }

    @Override
    public ByteBuffer[] nioBuffers(int index, int length) {
        checkIndex(index, length);
        if (length == 0) return NO_BUFFERS;
        int first = index / slotSize;
        int last = (index + length - 1) / slotSize;
        if (first == last) {
            // recvmmsg asks for exactly one chunk at a time: a cached window, no allocation.
            return viewOf(first).receiveWindows(windowStart(first, index), length);
        }
        ByteBuffer[] out = new ByteBuffer[last - first + 1];
        for (int k = first; k <= last; k++) {
            int from = Math.max(index, k * slotSize);
            int to = Math.min(index + length, (k + 1) * slotSize);
            out[k - first] = viewOf(k).receiveWindow(windowStart(k, from), to - from).slice();
        }
        return out;
    }

    @Override
    public ByteBuffer internalNioBuffer(int index, int length) {
        checkIndex(index, length);
        int k = index / slotSize;
        if (length > 0 && (index + length - 1) / slotSize != k) {
            throw new UnsupportedOperationException("range spans receive slots: index=" + index + " length=" + length);
        }
        return viewOf(k).receiveWindow(windowStart(k, index), length);
    }

    @Override
    public ByteBuffer nioBuffer(int index, int length) {
        return internalNioBuffer(index, length).slice();
    }

    private PacketByteBuf viewOf(int k) {
        PacketByteBuf view = scratchMode ? scratch : slots[k];
        if (view == null) throw new IllegalStateException("receive slot already handed out: slot=" + k);
        return view;
    }

    private int windowStart(int k, int index) {
        return (scratchMode ? 0 : headroom) + index - k * slotSize;
    }

    @Override
    protected void deallocate() {
        // Netty released the read buffer: slots it did not slice stay armed for the next read.
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        throw unsupported();
    }

    @Override
    public ByteBufAllocator alloc() {
        return alloc;
    }

    @Override
    @SuppressWarnings("deprecation")
    public ByteOrder order() {
        return ByteOrder.BIG_ENDIAN;
    }

    @Override
    public ByteBuf unwrap() {
        return null;
    }

    @Override
    public boolean isDirect() {
        return true;
    }

    @Override
    public boolean isContiguous() {
        return false;
    }

    @Override
    public boolean hasArray() {
        return false;
    }

    @Override
    public byte[] array() {
        throw unsupported();
    }

    @Override
    public int arrayOffset() {
        throw unsupported();
    }

    @Override
    public boolean hasMemoryAddress() {
        return false;
    }

    @Override
    public long memoryAddress() {
        throw unsupported();
    }

    @Override
    public ByteBuf copy(int index, int length) {
        throw unsupported();
    }

    private static UnsupportedOperationException unsupported() {
        return new UnsupportedOperationException("a receive batch is read through its slot views only");
    }

    // --- data accessors: never used by the receive path ---

    @Override protected byte _getByte(int index) { throw unsupported(); }
    @Override protected short _getShort(int index) { throw unsupported(); }
    @Override protected short _getShortLE(int index) { throw unsupported(); }
    @Override protected int _getUnsignedMedium(int index) { throw unsupported(); }
    @Override protected int _getUnsignedMediumLE(int index) { throw unsupported(); }
    @Override protected int _getInt(int index) { throw unsupported(); }
    @Override protected int _getIntLE(int index) { throw unsupported(); }
    @Override protected long _getLong(int index) { throw unsupported(); }
    @Override protected long _getLongLE(int index) { throw unsupported(); }
    @Override protected void _setByte(int index, int value) { throw unsupported(); }
    @Override protected void _setShort(int index, int value) { throw unsupported(); }
    @Override protected void _setShortLE(int index, int value) { throw unsupported(); }
    @Override protected void _setMedium(int index, int value) { throw unsupported(); }
    @Override protected void _setMediumLE(int index, int value) { throw unsupported(); }
    @Override protected void _setInt(int index, int value) { throw unsupported(); }
    @Override protected void _setIntLE(int index, int value) { throw unsupported(); }
    @Override protected void _setLong(int index, long value) { throw unsupported(); }
    @Override protected void _setLongLE(int index, long value) { throw unsupported(); }
    @Override public ByteBuf getBytes(int index, ByteBuf dst, int dstIndex, int length) { throw unsupported(); }
    @Override public ByteBuf getBytes(int index, byte[] dst, int dstIndex, int length) { throw unsupported(); }
    @Override public ByteBuf getBytes(int index, ByteBuffer dst) { throw unsupported(); }
    @Override public ByteBuf getBytes(int index, OutputStream out, int length) { throw unsupported(); }
    @Override public int getBytes(int index, GatheringByteChannel out, int length) { throw unsupported(); }
    @Override public int getBytes(int index, FileChannel out, long position, int length) { throw unsupported(); }
    @Override public ByteBuf setBytes(int index, ByteBuf src, int srcIndex, int length) { throw unsupported(); }
    @Override public ByteBuf setBytes(int index, byte[] src, int srcIndex, int length) { throw unsupported(); }
    @Override public ByteBuf setBytes(int index, ByteBuffer src) { throw unsupported(); }
    @Override public int setBytes(int index, InputStream in, int length) { throw unsupported(); }
    @Override public int setBytes(int index, ScatteringByteChannel in, int length) { throw unsupported(); }
    @Override public int setBytes(int index, FileChannel in, long position, int length) { throw unsupported(); }
}
