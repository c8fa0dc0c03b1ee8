package io.dataplane.transport.netty;

import io.dataplane.core.buffer.PacketBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Netty's view of one {@link PacketBuffer}: a direct {@link ByteBuf} over the buffer's whole slot
 * (index 0 is byte 0 of the slot, so the packet data sits at {@link PacketBuffer#offset()}), whose
 * last {@link #release()} hands the {@code PacketBuffer} back to its pool instead of freeing memory.
 *
 * <p>There is one view per {@code PacketBuffer}, created the first time a transport needs it and kept
 * as the buffer's {@link PacketBuffer#attachment() attachment}, so the packet path creates no views.
 * Its reference count says who holds the buffer:
 * <ul>
 *   <li>0: nobody in Netty (the buffer is in the pool, in our hands, or armed for a receive);
 *   <li>1: Netty holds it, after {@link #claim}: in a channel's outbound buffer until sent, or in a
 *       received {@code DatagramPacket} until our handler {@link #detach() detaches} it.
 * </ul>
 *
 * <p>{@link #hasMemoryAddress()} is true with the slot's native address, so Netty's epoll transport
 * puts that address straight into the {@code iovec} of sendmmsg/recvmmsg: no copy, and no
 * {@code sun.misc.Unsafe} needed (Netty disables it by default on Java 25).
 */
final class PacketByteBuf extends UnpooledDirectByteBuf {
    private final PacketBuffer packet;
    private final long address;
    private final int slotCapacity;
    private final ByteBufAllocator alloc;
    /** The receive window of the slot, re-pointed for every recvmmsg; reused so a read allocates nothing. */
    private final ByteBuffer receiveWindow;
    private final ByteBuffer[] receiveWindows;
    /** The last DatagramPacket built around this view; reused while the destination stays the same. */
    private DatagramPacket lastDatagram;

    private PacketByteBuf(PacketBuffer packet, ByteBuffer slot, long address, ByteBufAllocator alloc) {
        super(alloc, slot, slot.capacity());
        this.packet = packet;
        this.address = address;
        this.slotCapacity = slot.capacity();
        this.alloc = alloc;
        this.receiveWindow = slot.duplicate();
        this.receiveWindows = new ByteBuffer[] {receiveWindow};
        setRefCnt(0);
    }

    /**
     * The view of {@code packet}, created and attached on first use. A buffer whose attachment is some
     * other transport's object gets a view that is not kept (correct, but it allocates).
     */
    static PacketByteBuf of(PacketBuffer packet, ByteBufAllocator alloc) {
        Object attachment = packet.attachment();
        if (attachment instanceof PacketByteBuf view) return view;
        PacketByteBuf view = new PacketByteBuf(
                packet, packet.segment().asByteBuffer(), packet.address(), alloc);
        if (attachment == null) packet.attach(view);
        return view;
    }

    /** A view over memory that belongs to no pool (the receive scratch slot); release does nothing. */
    static PacketByteBuf scratch(ByteBuffer memory, long address, ByteBufAllocator alloc) {
        return new PacketByteBuf(null, memory, address, alloc);
    }

    /** The buffer this view shows, or null for the scratch view. */
    PacketBuffer packet() {
        return packet;
    }

    /** Hands the view to Netty with one reference and the readable bytes {@code [from, to)} of the slot. */
    PacketByteBuf claim(int from, int to) {
        resetRefCnt();
        setIndex(from, to);
        return this;
    }

    /**
     * Takes the {@code PacketBuffer} back from Netty without releasing it (a received datagram going
     * to the receiver): the view drops to 0 references, so a stray use by Netty would throw instead of
     * touching a buffer that has a new owner.
     */
    PacketBuffer detach() {
        if (refCnt() != 1) {
            throw new IllegalStateException("detach of a view Netty does not hold exactly once: refCnt=" + refCnt() + " " + packet);
        }
        setRefCnt(0);
        return packet;
    }

    /** A datagram of this view's readable bytes to {@code recipient}; reuses the last one for the same recipient. */
    DatagramPacket datagramTo(InetSocketAddress recipient) {
        DatagramPacket d = lastDatagram;
        if (d == null || d.recipient() != recipient) {
            d = new DatagramPacket(this, recipient);
            lastDatagram = d;
        }
        return d;
    }

    /** The slot bytes {@code [from, from + length)} as one NIO buffer, for one recvmmsg iovec. */
    ByteBuffer receiveWindow(int from, int length) {
        receiveWindow.clear().position(from).limit(from + length);
        return receiveWindow;
    }

    /** {@link #receiveWindow} as the one-element array Netty's {@code nioBuffers} contract wants. */
    ByteBuffer[] receiveWindows(int from, int length) {
        receiveWindow(from, length);
        return receiveWindows;
    }

    @Override
    protected void deallocate() {
        // Netty is done with the datagram (sent, failed, or dropped at close): the buffer goes home.
        if (packet != null) packet.release();
    }

    @Override
    public ByteBufAllocator alloc() {
        return alloc;
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    @Override
    public long memoryAddress() {
        ensureAccessible();
        return address;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        // Growing would make Netty move the data to memory of its own, behind the pool's back.
        if (newCapacity != slotCapacity) {
            throw new UnsupportedOperationException(
                    "a packet buffer view cannot change capacity: capacity=" + slotCapacity + " requested=" + newCapacity);
        }
        return this;
    }

    @Override
    public String toString() {
        return "PacketByteBuf[" + (packet == null ? "scratch" : packet.toString())
                + " ridx=" + readerIndex() + " widx=" + writerIndex() + " refCnt=" + refCnt() + "]";
    }
}
