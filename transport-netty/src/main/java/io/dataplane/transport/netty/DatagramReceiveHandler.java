package io.dataplane.transport.netty;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * The only handler in a transport's pipeline. Inbound, it turns Netty's {@link DatagramPacket}s back
 * into {@link PacketBuffer}s (the pool buffer the datagram was received into, its data at the pool's
 * headroom, its peer the sender) and hands them to the {@link Transport.Receiver} in batches: when the
 * batch array is full and at the end of every read event. It also counts what goes wrong: a datagram
 * received while the pool was dry ({@code POOL_EXHAUSTED}), one that filled its slot and so may have
 * been cut short ({@code OVERSIZE}), and failed sends ({@code SEND_FAILED}). Event loop only.
 */
final class DatagramReceiveHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(DatagramReceiveHandler.class.getName());

    private final Counters counters;
    private final PacketBuffer[] batch;
    private final int slotSize;
    private final Runnable onWritable;
    private volatile Transport.Receiver receiver;
    private int count;
    private volatile long received;

    /**
     * @param slotSize bytes a datagram may have in one receive slot
     * @param onWritable run when the channel becomes writable again (resumes draining the send ring)
     */
    DatagramReceiveHandler(Counters counters, int batchSize, int slotSize, Runnable onWritable) {
        this.counters = counters;
        this.batch = new PacketBuffer[batchSize];
        this.slotSize = slotSize;
        this.onWritable = onWritable;
    }

    /** Sets where datagrams go; set before reading is switched on. */
    void receiver(Transport.Receiver receiver) {
        this.receiver = receiver;
    }

    /** Datagrams handed to the receiver so far. */
    long received() {
        return received;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket datagram)) {
            // Nothing else is fired on a datagram channel without UDP_GRO; never leak it if it is.
            ReferenceCountUtil.release(msg);
            return;
        }
        ByteBuf content = datagram.content();
        if (!(content instanceof PacketByteBuf view) || view.packet() == null) {
            counters.drop(DropReason.POOL_EXHAUSTED);
            datagram.release();
            return;
        }
        int from = view.readerIndex();
        int length = view.readableBytes();
        InetSocketAddress sender = datagram.sender();
        PacketBuffer packet = view.detach();
        if (length >= slotSize) {
            // recvmmsg truncates silently at the iovec's end, so a full slot may be a cut-off datagram.
            counters.drop(DropReason.OVERSIZE);
            packet.release();
            return;
        }
        packet.setData(from, length).setPeer(PeerAddressCache.addressOf(sender), sender.getPort());
        batch[count++] = packet;
        if (count == batch.length) deliver();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        deliver();
    }

    private void deliver() {
        int n = count;
        if (n == 0) return;
        count = 0;
        Transport.Receiver r = receiver;
        try {
            if (r != null) {
                r.onReceive(batch, n);
                received = received + n;
            } else {
                PacketPool.releaseAll(batch, 0, n);
            }
        } finally {
            // The receiver owns them now, whatever it did; the array is ours again.
            Arrays.fill(batch, 0, n, null);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) onWritable.run();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // The socket is unconnected and has no IP_RECVERR, so the kernel reports no asynchronous
            // ICMP errors: what fails is a sendmmsg/sendto (EACCES, ENETUNREACH, EMSGSIZE...). Netty has
            // already dropped and released that one datagram and goes on with the rest.
            counters.drop(DropReason.SEND_FAILED);
            return;
        }
        // A bug (ours or the receiver's), not bad input: say so once per occurrence, keep the loop alive.
        LOG.log(System.Logger.Level.WARNING, "unexpected error on UDP transport " + ctx.channel().localAddress(), cause);
    }

    /** Releases whatever a read event left in the batch (at close; empty between events). */
    int releasePending() {
        int n = count;
        PacketPool.releaseAll(batch, 0, n);
        count = 0;
        return n;
    }
}
