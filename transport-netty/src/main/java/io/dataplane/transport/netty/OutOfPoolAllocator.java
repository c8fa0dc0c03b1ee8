package io.dataplane.transport.netty;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The allocator a transport's channel is configured with, for anything Netty wants that is not a
 * pool buffer. On the packet path that is nothing: receives go through {@link PoolRecvByteBufAllocator}
 * and sends carry {@link PacketByteBuf}s that Netty can hand to the kernel as they are. Should Netty
 * ever decide to copy a datagram into a buffer of its own, the copy is allocated here and counted, so
 * tests can assert the count stays 0.
 *
 * <p>{@link #isDirectBufferPooled()} says true on purpose: Netty then routes its copy-for-write
 * through this allocator instead of a thread-local buffer that would bypass the count.
 */
final class OutOfPoolAllocator extends AbstractByteBufAllocator {
    private final AtomicLong allocations = new AtomicLong();

    OutOfPoolAllocator() {
        super(true);
    }

    /** Buffers Netty asked for so far. */
    long allocations() {
        return allocations.get();
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        allocations.incrementAndGet();
        return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        allocations.incrementAndGet();
        return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return true;
    }
}
