package io.dataplane.node.cli;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.netns.NetNamespace;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP stream from a pod address in one network namespace to a pod address in another for a
 * while, as {@code iperf3 -c} makes one: plain Java sockets, each created and bound on its
 * namespace's thread (a socket belongs to the namespace it is made in), a sender that writes as
 * fast as TCP takes it, a receiver that counts. Retransmissions are the sender namespace's
 * {@code RetransSegs} before and after. Nothing installed is needed.
 */
final class TcpStream implements AutoCloseable {
    private static final int PORT = 5201;
    private static final int CHUNK = 256 * 1024;

    private final NetNamespace senderNs;
    private final ServerSocketChannel server;
    private final SocketChannel client;
    private final Thread sender;
    private final Thread receiver;
    private final AtomicLong received = new AtomicLong();
    private final long retransmitsBefore;
    private volatile long startNanos;
    private volatile long endNanos;
    private volatile String failure;

    private TcpStream(NetNamespace senderNs, ServerSocketChannel server, SocketChannel client, int to, Duration length)
            throws IOException {
        this.senderNs = senderNs;
        this.server = server;
        this.client = client;
        this.retransmitsBefore = retransmits(senderNs);
        InetSocketAddress target = new InetSocketAddress(Ipv4Address.toInetAddress(to), PORT);
        this.receiver = Thread.ofPlatform().name("demo-tcp-receiver").daemon().unstarted(this::receive);
        this.sender = Thread.ofPlatform().name("demo-tcp-sender").daemon().unstarted(() -> send(target, length));
    }

    /** Listens on {@code to} in {@code toNs}, connects from {@code from} in {@code fromNs} and streams for {@code length}. */
    static TcpStream start(NetNamespace fromNs, int from, NetNamespace toNs, int to, Duration length) throws IOException {
        ServerSocketChannel server = toNs.call(() -> ServerSocketChannel.open().bind(new InetSocketAddress(Ipv4Address.toInetAddress(to), PORT)));
        SocketChannel client = null;
        try {
            client = fromNs.call(() -> {
                SocketChannel c = SocketChannel.open();
                c.bind(new InetSocketAddress(Ipv4Address.toInetAddress(from), 0));
                return c;
            });
            TcpStream stream = new TcpStream(fromNs, server, client, to, length);
            stream.receiver.start();
            stream.sender.start();
            return stream;
        } catch (IOException | RuntimeException e) {
            server.close();
            if (client != null) client.close();
            throw e;
        }
    }

    private void send(InetSocketAddress target, Duration length) {
        try {
            client.socket().connect(target, 3000);
            ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
            long end = System.nanoTime() + length.toNanos();
            while (System.nanoTime() < end) {
                chunk.clear();
                while (chunk.hasRemaining()) client.write(chunk);
            }
            client.shutdownOutput();
        } catch (IOException e) {
            if (failure == null) failure = "sending: " + e.getMessage();
            stop(); // a receiver still waiting in accept ends too
        }
    }

    private void receive() {
        try (SocketChannel accepted = server.accept()) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
            startNanos = System.nanoTime();
            for (int n; (n = accepted.read(buffer.clear())) >= 0; ) received.addAndGet(n);
            endNanos = System.nanoTime();
        } catch (IOException e) {
            if (failure == null) failure = "receiving: " + e.getMessage();
        }
    }

    /** Waits up to {@code timeout} for the stream to end (the receiver saw the sender's end, or an error); true if it did. */
    boolean await(Duration timeout) throws InterruptedException {
        return receiver.join(timeout) && sender.join(Duration.ofMillis(100));
    }

    /** Bytes the receiver got. */
    long bytesReceived() {
        return received.get();
    }

    /** Bits per second the receiver got, from its accept to the end of the stream. */
    double bitsPerSecond() {
        long end = endNanos;
        return end == 0 ? 0 : received.get() * 8e9 / Math.max(1, end - startNanos);
    }

    /** What went wrong, or null. */
    String failure() {
        return failure;
    }

    /** TCP segments the sender's namespace sent again since the start. */
    long retransmissions() throws IOException {
        return retransmits(senderNs) - retransmitsBefore;
    }

    /** The {@code Tcp: RetransSegs} counter of {@code ns}, read on its thread ({@code /proc/thread-self/net} is that thread's namespace). */
    private static long retransmits(NetNamespace ns) throws IOException {
        return ns.call(() -> {
            List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/net/snmp"));
            for (int i = 0; i + 1 < lines.size(); i++) {
                if (!lines.get(i).startsWith("Tcp:") || !lines.get(i + 1).startsWith("Tcp:")) continue;
                List<String> names = List.of(lines.get(i).split("\\s+"));
                int at = names.indexOf("RetransSegs");
                if (at > 0) return Long.parseLong(lines.get(i + 1).split("\\s+")[at]);
            }
            throw new IOException("no Tcp RetransSegs in /proc/thread-self/net/snmp of " + ns.name());
        });
    }

    /** Closes both sockets, which ends the threads; true if the stream was still running. */
    boolean stop() {
        boolean running = sender.isAlive() || receiver.isAlive();
        try {
            client.close();
            server.close();
        } catch (IOException ignored) {
            // A socket that fails to close has nothing more to release.
        }
        return running;
    }

    @Override
    public void close() {
        stop();
    }
}
