/**
 * A UDP {@link io.dataplane.core.spi.Transport} on Netty's native epoll transport,
 * {@link io.dataplane.transport.netty.UdpTransport}: an event loop thread sends from a bounded ring
 * and receives, with recvmmsg/sendmmsg batches straight from and into
 * {@link io.dataplane.core.buffer.PacketPool} buffers. Optional: the library and the node run
 * {@code io.dataplane.tun.socket.SocketTransport}; this is for an agent that already runs Netty's
 * epoll event loops and wants its datagrams there. It passes the same transport conformance test.
 *
 * <h2>Buffer ownership through Netty</h2>
 * <ul>
 *   <li>Every {@link io.dataplane.core.buffer.PacketBuffer} has one long-lived Netty view,
 *       {@code PacketByteBuf}, kept as its attachment. Its reference count is 1 exactly while Netty
 *       holds the buffer; its last release returns the buffer to the pool instead of freeing memory.
 *   <li>Send: {@code send()} moves buffers into a bounded MPSC ring (full: released, the caller
 *       counts {@code RING_FULL}). The event loop claims each buffer's view (reference count 1,
 *       readable bytes = the packet), writes a {@code DatagramPacket} around it and flushes the batch
 *       once; Netty puts the view's native address into sendmmsg's iovecs and releases the view after
 *       the call, which returns the buffer. A failed datagram is released the same way and counted as
 *       {@code SEND_FAILED}; closing the channel releases whatever Netty still queues.
 *   <li>Receive: Netty 4.2's recvmmsg path reads into one allocated buffer cut into
 *       {@code MAX_DATAGRAM_PAYLOAD_SIZE} chunks and hands each datagram up as a retained slice of it.
 *       The channel's {@code RecvByteBufAllocator} answers with a {@code RecvBatchByteBuf}: armed with
 *       up to {@code batchSize} pool buffers, it maps chunk k to pool buffer k (from the pool's
 *       headroom, {@code bufferSize - headroom} bytes) and answers {@code retainedSlice} with buffer
 *       k's own view. Each datagram thus lands in its own pool buffer at the headroom, no copy; the
 *       receive handler detaches the buffer from its view (reference count back to 0) and hands it to
 *       the receiver, which owns it from then on. Slots a read did not fill stay armed for the next.
 *   <li>Pool dry: the batch buffer arms one scratch slot, the datagram is read and dropped as
 *       {@code POOL_EXHAUSTED}, so the socket keeps draining and nothing spins.
 * </ul>
 */
package io.dataplane.transport.netty;
