package io.dataplane.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.ConfigException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket alone, no node and no root: owner-only, one answer per connection, one node per state directory, stale sockets. */
class ControlSocketTest {
    @TempDir
    Path dir;

    @Test
    void answersEachClientOwnerOnlyAndIsGoneAfterClose() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        Path socket = dir.resolve(ControlSocket.FILE_NAME);
        try (ControlSocket control = ControlSocket.start(dir, () -> "{\"n\":" + asked.incrementAndGet() + "}")) {
            assertEquals(socket, control.path());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals("{\"n\":1}", ControlSocket.ask(dir));
            assertEquals("{\"n\":2}", ControlSocket.ask(dir));
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "the temporary name is gone once renamed");
            }

            ConfigException second = assertThrows(ConfigException.class, () -> ControlSocket.start(dir, () -> "{}"));
            assertTrue(second.getMessage().contains("another node is running with the state directory " + dir), second.getMessage());
            // The second start's probe was a connection too: it got the answer after n=2.
            assertEquals("{\"n\":4}", ControlSocket.ask(dir), "the first node still answers");
        }
        assertFalse(Files.exists(socket));
        ControlSocket.NoAnswer none = assertThrows(ControlSocket.NoAnswer.class, () -> ControlSocket.ask(dir));
        assertEquals("no node is running with the state directory " + dir + " (no " + socket + ")", none.getMessage());
    }

    @Test
    void aSocketLeftByAKilledNodeIsNamedAndReplaced() throws Exception {
        Path socket = dir.resolve(ControlSocket.FILE_NAME);
        // What a node killed with SIGKILL leaves: the socket file, nobody listening.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        ControlSocket.NoAnswer stale = assertThrows(ControlSocket.NoAnswer.class, () -> ControlSocket.ask(dir));
        assertEquals("no node is running with the state directory " + dir + " (" + socket + " is left from a node that stopped)",
                stale.getMessage());

        try (ControlSocket control = ControlSocket.start(dir, () -> "{\"fresh\":true}")) {
            assertEquals("{\"fresh\":true}", ControlSocket.ask(dir));
        }
    }

    @Test
    void aPathTooLongForASocketIsNamed() throws Exception {
        Path deep = Files.createDirectories(dir.resolve("d".repeat(120)));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> ControlSocket.start(deep, () -> "{}"));
        assertEquals("cannot serve " + deep.resolve(ControlSocket.FILE_NAME) + ": Unix domain path too long", e.getMessage());
        try (var files = Files.list(deep)) {
            assertEquals(0, files.count(), "nothing left behind");
        }
    }

    @Test
    void aDirectoryThatIsNotThereIsNoNode() {
        Path missing = dir.resolve("nowhere");
        ControlSocket.NoAnswer none = assertThrows(ControlSocket.NoAnswer.class, () -> ControlSocket.ask(missing));
        assertEquals("no node is running with the state directory " + missing + " (no such directory)", none.getMessage());
    }
}
