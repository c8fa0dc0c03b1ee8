package io.dataplane.node.cli;

import io.dataplane.core.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A running node's control socket: a Unix domain socket {@code control.sock} in its state
 * directory, owner-only (mode 0600), through which {@code dataplane show} asks the node what it
 * knows. A client connects and reads; the node writes one JSON document ({@link NodeView}) and
 * closes. Nothing is read from the client, so a client can change nothing and hold up nothing.
 *
 * <p>The socket is bound under a temporary name, made owner-only and then renamed to
 * {@code control.sock}: under that name it is never reachable by anyone else, not even for an
 * instant. A {@code control.sock} left by a node that was killed is replaced; one that answers
 * belongs to a node still running with this state directory, and then this node does not start:
 * two nodes sharing one state directory would share their VTEP MAC or WireGuard key.
 */
final class ControlSocket implements AutoCloseable {
    /** The socket's name in the state directory. */
    static final String FILE_NAME = "control.sock";
    /** How long a client waits for the node's answer. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(5);

    private final Path path;
    private final ServerSocketChannel server;
    private final Supplier<String> answer;
    private final Thread acceptor;

    private ControlSocket(Path path, ServerSocketChannel server, Supplier<String> answer) {
        this.path = path;
        this.server = server;
        this.answer = answer;
        this.acceptor = Thread.ofPlatform().name("node-control").daemon().unstarted(this::serve);
    }

    /**
     * Serves {@code answer} (computed per connection) at {@code stateDir/control.sock}.
     *
     * @throws ConfigException for {@code --config} when a node already answers there
     * @throws IOException naming the socket when it cannot be made (a read-only directory, a path
     *     longer than a Unix socket's 107 bytes)
     */
    static ControlSocket start(Path stateDir, Supplier<String> answer) throws IOException {
        Path path = stateDir.resolve(FILE_NAME);
        if (answers(path)) {
            throw new ConfigException("command line", "--config", "another node is running with the state directory " + stateDir
                    + " (its control socket " + path + " answers)");
        }
        Path temporary = stateDir.resolve("." + FILE_NAME + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(temporary);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(temporary));
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            Files.move(temporary, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(temporary);
            throw new IOException("cannot serve " + path + ": " + e.getMessage(), e);
        }
        ControlSocket socket = new ControlSocket(path, server, answer);
        socket.acceptor.start();
        return socket;
    }

    /** The socket's path. */
    Path path() {
        return path;
    }

    private void serve() {
        while (true) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException closed) {
                return;
            } catch (IOException e) {
                if (!server.isOpen()) return;
                continue;
            }
            // One virtual thread per client: one that does not read holds up only its own answer.
            Thread.ofVirtual().name("node-control-client").start(() -> {
                try (client) {
                    client.write(ByteBuffer.wrap(answer.get().getBytes(StandardCharsets.UTF_8)));
                } catch (IOException | RuntimeException e) {
                    // The client went away, or the node is closing under the view: the client sees a cut answer.
                }
            });
        }
    }

    /** Stops serving and removes the socket (unless another node's has replaced it). */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // Closing a listening socket does not fail in a way that matters here.
        }
        try {
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (!answers(path)) Files.deleteIfExists(path);
        } catch (IOException e) {
            // Left behind: the next node replaces it, and show calls it a node that stopped.
        }
    }

    /** True if something accepts connections at {@code path}. */
    private static boolean answers(Path path) {
        if (!Files.exists(path)) return false;
        try (SocketChannel ignored = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Why a client got no answer: one line for the user. */
    static final class NoAnswer extends IOException {
        private static final long serialVersionUID = 1L;

        NoAnswer(String message) {
            super(message);
        }
    }

    /**
     * Asks the node whose state directory is {@code stateDir} and returns its answer.
     *
     * @throws NoAnswer saying why, in one line, when no node answers there
     */
    static String ask(Path stateDir) throws IOException {
        Path path = stateDir.resolve(FILE_NAME);
        if (!Files.isDirectory(stateDir)) throw noNode(stateDir, "no such directory");
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            // The JDK names these by exception type on some paths and only by message on others.
            String m = String.valueOf(e.getMessage());
            if (e instanceof NoSuchFileException || !Files.exists(path)) throw noNode(stateDir, "no " + path);
            if (e instanceof ConnectException || m.contains("onnection refused")) throw noNode(stateDir, path + " is left from a node that stopped");
            if (e instanceof AccessDeniedException || m.contains("ermission denied")) {
                throw new NoAnswer("cannot ask the node at " + path + ": permission denied (the socket is its owner's only: run as root)");
            }
            throw new NoAnswer("cannot ask the node at " + path + ": " + m);
        }
        CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> readAll(channel), Thread::startVirtualThread);
        try {
            return read.get(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new NoAnswer("the node at " + path + " does not answer within " + ANSWER_TIMEOUT.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new NoAnswer("the node at " + path + " stopped answering: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NoAnswer("interrupted while asking the node at " + path);
        } finally {
            channel.close();
        }
    }

    private static NoAnswer noNode(Path stateDir, String why) {
        return new NoAnswer("no node is running with the state directory " + stateDir + " (" + why + ")");
    }

    private static String readAll(SocketChannel channel) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(16384);
        try {
            while (channel.read(buffer.clear()) >= 0) bytes.write(buffer.array(), 0, buffer.position());
        } catch (AsynchronousCloseException e) {
            throw new IllegalStateException("closed while reading", e);
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
