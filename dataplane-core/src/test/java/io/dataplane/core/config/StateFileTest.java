package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * State files are created 0600, whole, once; a full or read-only state directory is an error that
 * names the file and the reason and leaves nothing behind (root: a small tmpfs of the test's own,
 * mounted on its temporary directory and unmounted at the end).
 */
class StateFileTest {

    @Test
    void createdOwnerOnlyAndNeverReplaced(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("state/wgkey");
        assertTrue(StateFile.create(file, "first\n"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("first\n", Files.readString(file));
        assertFalse(StateFile.create(file, "second\n"), "an existing file stays");
        assertEquals("first\n", Files.readString(file));
        assertEquals(List.of("wgkey"), names(file.getParent()), "no temporary file left");
    }

    @Test
    void widerModesAreRestrictedToTheOwner(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("wgkey"), "key\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(StateFile.restrictToOwner(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(StateFile.restrictToOwner(file), "already owner-only");
    }

    @Test
    void aFullStateDirectoryIsAClearErrorAndLeavesNoFile(@TempDir Path dir) throws Exception {
        try (Tmpfs fs = Tmpfs.mount(dir)) {
            // Fill the file system: what is left is less than a block.
            try (var out = Files.newOutputStream(dir.resolve("filler"))) {
                byte[] block = new byte[4096];
                while (true) out.write(block);
            } catch (IOException full) {
                assertTrue(full.getMessage().contains("No space left on device"), full.toString());
            }
            IOException e = assertThrows(IOException.class, () -> StateFile.create(dir.resolve("vtep-mac"), "0e:4f:a1:22:7c:10\n"));
            assertEquals("cannot create " + dir.resolve("vtep-mac") + ": No space left on device", e.getMessage());
            assertEquals(List.of("filler"), names(dir), "neither the file nor a temporary one");
        }
    }

    @Test
    void aReadOnlyStateDirectoryIsAClearError(@TempDir Path dir) throws Exception {
        try (Tmpfs fs = Tmpfs.mount(dir)) {
            fs.remountReadOnly();
            IOException e = assertThrows(IOException.class, () -> StateFile.create(dir.resolve("wgkey"), "key\n"));
            assertTrue(e.getMessage().startsWith("cannot create " + dir), e.getMessage());
            assertTrue(e.getMessage().endsWith("Read-only file system"), e.getMessage());
            assertEquals(List.of(), names(dir));
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A 64 KiB tmpfs on a directory of the test's own (root only); unmounted on close. */
    private record Tmpfs(Path dir) implements AutoCloseable {
        static Tmpfs mount(Path dir) throws Exception {
            io.dataplane.core.testing.Prerequisites.require("root".equals(System.getProperty("user.name")), "needs root: mounts a small tmpfs to fill it or make it read-only");
            run("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "dataplane-statefile-test", dir.toString());
            return new Tmpfs(dir);
        }

        void remountReadOnly() throws Exception {
            run("mount", "-o", "remount,ro", dir.toString());
        }

        @Override
        public void close() throws Exception {
            run("umount", dir.toString());
        }

        private static void run(String... command) throws Exception {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ": " + out);
        }
    }
}
