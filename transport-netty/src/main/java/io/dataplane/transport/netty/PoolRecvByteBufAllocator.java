package io.dataplane.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Makes Netty's datagram reads land in pool buffers: every read "allocates" the channel's one
 * {@link RecvBatchByteBuf}, armed with pool buffers, whatever allocator Netty passes in.
 *
 * <p>It also decides how long one readiness event keeps reading: on while the last recvmmsg filled
 * every slot (the socket likely holds more) and fewer than {@code maxDatagramsPerEvent} came in, so a
 * flood cannot starve the send side of the same event loop. The socket is level-triggered in Netty
 * 4.2, so stopping early loses nothing.
 */
final class PoolRecvByteBufAllocator implements RecvByteBufAllocator {
    private final RecvBatchByteBuf batch;
    private final int maxDatagramsPerEvent;
    private volatile int largestRead;
    private volatile long reads;

    PoolRecvByteBufAllocator(RecvBatchByteBuf batch, int maxDatagramsPerEvent) {
        this.batch = batch;
        this.maxDatagramsPerEvent = maxDatagramsPerEvent;
    }

    @Override
    @SuppressWarnings("deprecation") // the interface's own return type; the handle is an ExtendedHandle, as Netty casts it
    public Handle newHandle() {
        return new BatchHandle();
    }

    /** Most datagrams one recvmmsg call returned so far (tests check batching really happens). */
    int largestRead() {
        return largestRead;
    }

    /** Receive system calls that returned datagrams. */
    long reads() {
        return reads;
    }

    private final class BatchHandle implements ExtendedHandle {
        private int datagramsThisEvent;
        private int attemptedBytes;
        private int lastBytes;

        @Override
        public ByteBuf allocate(ByteBufAllocator ignored) {
            return batch.arm();
        }

        @Override
        public int guess() {
            return batch.maxCapacity();
        }

        @Override
        public void reset(ChannelConfig config) {
            datagramsThisEvent = 0;
            attemptedBytes = 0;
            lastBytes = 0;
        }

        @Override
        public void incMessagesRead(int numMessages) {
            datagramsThisEvent += numMessages;
            // Plain writes of fields only the event loop writes: no contended atomics per read.
            reads = reads + 1;
            if (numMessages > largestRead) largestRead = numMessages;
        }

        @Override
        public void lastBytesRead(int bytes) {
            lastBytes = bytes;
        }

        @Override
        public int lastBytesRead() {
            return lastBytes;
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            attemptedBytes = bytes;
        }

        @Override
        public int attemptedBytesRead() {
            return attemptedBytes;
        }

        @Override
        public boolean continueReading() {
            return continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreData) {
            if (datagramsThisEvent >= maxDatagramsPerEvent || lastBytes <= 0) return false;
            // Netty reports slots * slotSize for a recvmmsg that filled every slot; in scratch mode (pool
            // dry) each read takes one datagram, so keep draining the socket while datagrams come.
            return (lastBytes == attemptedBytes || batch.isScratch()) && maybeMoreData.get();
        }

        @Override
        public void readComplete() {
        }
    }
}
