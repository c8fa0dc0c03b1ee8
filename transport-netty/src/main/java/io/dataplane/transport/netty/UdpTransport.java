package io.dataplane.transport.netty;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.udp.UdpTransportConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Transport} on a UDP socket of Netty's native epoll transport: recvmmsg straight into pool
 * buffers, sendmmsg straight from them, one event loop thread per transport.
 *
 * <pre>
 * send(batch) on any thread
 *   --> send ring (JCTools MPSC, bounded: full = released, caller counts RING_FULL)
 *   --> one drain task on the event loop (scheduled once per burst)
 *   --> channel.write(DatagramPacket over the buffer's own ByteBuf view) x batch, flush once
 *   --> Netty: sendmmsg with one iovec per datagram pointing into the pool buffer (no copy)
 *   --> the view's last release returns the buffer to its pool
 *
 * socket readable (epoll, level-triggered)
 *   --> PoolRecvByteBufAllocator arms a RecvBatchByteBuf with up to batchSize pool buffers
 *   --> Netty: recvmmsg, iovec k = pool buffer k from its headroom (no copy)
 *   --> DatagramReceiveHandler: buffer + sender endpoint, batched
 *   --> Receiver.onReceive(batch, n) on the event loop, which now owns the buffers
 * </pre>
 *
 * <p>It always sends from its event loop: {@link UdpTransportConfig#sendOnCaller()} is not used.
 *
 * <p>Pool use: besides what the receiver holds, the transport keeps up to {@code batchSize} buffers of
 * its pool armed for the next recvmmsg (returned at close); size the pool for it.
 *
 * <p>Allocation: sends allocate nothing of ours per datagram (the {@code DatagramPacket} around a
 * buffer's view is reused while the buffer goes to the same peer, peer addresses are cached), but
 * Netty's sendmmsg copies each recipient's address bytes ({@code InetAddress.getAddress()}); receives
 * allocate inside Netty a sender {@code InetSocketAddress} and a {@code DatagramPacket} per datagram,
 * which its recvmmsg path does not let us avoid.
 *
 * <p>Not done here: UDP_GRO stays off (Netty 4.2.18 loses GRO segment boundaries on its recvmmsg
 * path) and UDP_SEGMENT is not used; both belong to the offload work.
 */
public final class UdpTransport implements Transport {
    private static final int READS_PER_EVENT = 4;

    private final UdpTransportConfig config;
    private final PacketPool pool;
    private final Counters counters = new Counters();
    private final OutOfPoolAllocator alloc = new OutOfPoolAllocator();
    private final Arena scratchArena;
    private final RecvBatchByteBuf receiveBatch;
    private final PoolRecvByteBufAllocator recvAllocator;
    private final DatagramSender sender;
    private final DatagramReceiveHandler handler;
    private final EventLoopGroup group;
    private final Channel channel;
    private final int localPort;
    private boolean started;
    private boolean closed;

    private UdpTransport(UdpTransportConfig config, PacketPool pool) throws IOException {
        this.config = config;
        this.pool = pool;
        int slotSize = pool.bufferSize() - pool.headroom();
        int batchSize = config.batchSize();
        this.scratchArena = Arena.ofShared();
        MemorySegment scratch = scratchArena.allocate(slotSize, 64);
        this.receiveBatch = new RecvBatchByteBuf(
                pool, batchSize, PacketByteBuf.scratch(scratch.asByteBuffer(), scratch.address(), alloc), alloc);
        this.recvAllocator = new PoolRecvByteBufAllocator(receiveBatch, READS_PER_EVENT * batchSize);
        this.sender = new DatagramSender(config.ringCapacity(), batchSize, counters, alloc);
        this.handler = new DatagramReceiveHandler(counters, batchSize, slotSize, sender::schedule);
        // Daemon: a transport the embedder forgets to close must not keep the JVM alive.
        this.group = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("dataplane-udp", true), EpollIoHandler.newFactory());
        // Netty's outbound buffer only fills while the socket pushes back; past two batches of full
        // buffers we stop draining the ring and let it (bounded) absorb the burst instead.
        int highWater = Math.max(64 << 10, 2 * batchSize * pool.bufferSize());
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channelFactory(() -> new EpollDatagramChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.ALLOCATOR, alloc)
                .option(ChannelOption.RECVBUF_ALLOCATOR, recvAllocator)
                // Datagrams wait in the socket until start() names a receiver.
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.SO_REUSEADDR, false)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(highWater / 2, highWater))
                // slotSize per iovec makes Netty use recvmmsg with one slot per datagram; 0 means recvmsg.
                .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, batchSize > 1 ? slotSize : 0)
                .option(EpollChannelOption.UDP_GRO, false)
                .handler(handler);
        if (config.receiveBufferBytes() > 0) bootstrap.option(ChannelOption.SO_RCVBUF, config.receiveBufferBytes());
        if (config.sendBufferBytes() > 0) bootstrap.option(ChannelOption.SO_SNDBUF, config.sendBufferBytes());
        InetSocketAddress local = new InetSocketAddress(Ipv4Address.toInetAddress(config.bindAddress()), config.port());
        ChannelFuture bound = bootstrap.bind(local).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            scratchArena.close();
            Throwable cause = bound.cause();
            throw new IOException("cannot bind UDP socket to " + Ipv4Address.toString(config.bindAddress()) + ":"
                    + config.port() + ": " + cause.getMessage(), cause);
        }
        this.channel = bound.channel();
        this.localPort = ((InetSocketAddress) channel.localAddress()).getPort();
        sender.channel(channel);
    }

    /**
     * Binds a UDP socket as {@code config} says; received datagrams will land in buffers of {@code
     * pool}. Nothing is read until {@link #start}; sending works at once.
     *
     * @throws IOException naming the address and port when the bind fails, or why Netty's epoll
     *     transport is unavailable
     */
    public static UdpTransport open(UdpTransportConfig config, PacketPool pool) throws IOException {
        if (!EpollRuntime.isAvailable()) {
            Throwable cause = EpollRuntime.unavailabilityCause();
            throw new IOException("Netty's native epoll transport is unavailable: " + cause, cause);
        }
        return new UdpTransport(config, pool);
    }

    /** True when Netty's native epoll transport can be used on this machine. */
    public static boolean isAvailable() {
        return EpollRuntime.isAvailable();
    }

    /** Why {@link #isAvailable()} is false (for a test's skip message), or null. */
    public static Throwable unavailabilityCause() {
        return EpollRuntime.unavailabilityCause();
    }

    @Override
    public synchronized void start(Receiver receiver) {
        if (closed) throw new IllegalStateException("UDP transport on port " + localPort + " is closed");
        if (started) throw new IllegalStateException("UDP transport on port " + localPort + " already started");
        started = true;
        handler.receiver(receiver);
        channel.config().setAutoRead(true);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Clears {@code batch[0..count)}. After {@link #close()} every buffer is released at once and 0
     * is returned.
     */
    @Override
    public int send(PacketBuffer[] batch, int count) {
        return sender.send(batch, count);
    }

    @Override
    public int localPort() {
        return localPort;
    }

    @Override
    public int batchSize() {
        return config.batchSize();
    }

    @Override
    public Counters counters() {
        return counters;
    }

    /** The configuration this transport was opened with. */
    public UdpTransportConfig config() {
        return config;
    }

    /** The pool received datagrams land in. */
    public PacketPool pool() {
        return pool;
    }

    /**
     * Buffers Netty allocated outside the pool for this transport. Stays 0 while the packet path is
     * zero-copy; anything else means Netty copied datagrams into memory of its own.
     */
    public long outOfPoolAllocations() {
        return alloc.allocations();
    }

    /** Most datagrams a single receive system call delivered so far. */
    int largestReceiveBatch() {
        return recvAllocator.largestRead();
    }

    /** Receive system calls that delivered datagrams so far. */
    long receiveCalls() {
        return recvAllocator.reads();
    }

    /** Datagrams handed to the receiver so far. */
    long received() {
        return handler.received();
    }

    /** Times the send side left packets in its ring because the socket's send buffer was full. */
    long sendPauses() {
        return sender.pauses();
    }

    /** Endpoints the send side has cached socket addresses for. */
    int cachedPeers() {
        return sender.cachedPeers();
    }

    /**
     * Closes the socket, stops the event loop thread and returns every buffer the transport held: those
     * waiting in the send ring, those Netty had not sent yet, and those armed for the next receive.
     * Must not be called from the receiver (the transport's own thread).
     */
    @Override
    public void close() {
        if (channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("UDP transport on port " + localPort + " closed from its own event loop");
        }
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        sender.close();
        // Netty fails and releases whatever is still in its outbound buffer; our views then return
        // their buffers to the pool.
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
        // The loop has stopped: nothing races with us for what is left.
        sender.releaseQueued();
        handler.releasePending();
        receiveBatch.releaseArmed();
        scratchArena.close();
    }

    @Override
    public String toString() {
        return "UdpTransport[" + Ipv4Address.toString(config.bindAddress()) + ":" + localPort + "]";
    }
}
