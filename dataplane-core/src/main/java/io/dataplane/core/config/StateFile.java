package io.dataplane.core.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A small file a backend keeps in its state directory across restarts (the VTEP MAC, the WireGuard
 * private key): readable by its owner only (mode 0600), created whole or not at all, and never
 * replaced once there. A full or read-only state directory is an {@link IOException} naming the
 * file and the reason, and leaves no file behind, so the next start finds either the complete old
 * file or none.
 */
public final class StateFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private StateFile() {}

    /**
     * Creates {@code file} (and its directory) holding {@code text}, mode 0600: written to a
     * temporary file in the same directory, flushed to the disk, then linked into place, which
     * fails if the name exists.
     *
     * @return true if this call created the file, false if it was already there (left unchanged)
     * @throws IOException naming the file and the reason ("No space left on device", "Read-only file system")
     */
    public static boolean create(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) ch.write(bytes);
                ch.force(true);
            }
            try {
                Files.createLink(file, tmp);
            } catch (FileAlreadyExistsException e) {
                return false;
            }
            return true;
        } catch (FileSystemException e) {
            throw new IOException("cannot create " + file + ": " + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()), e);
        } catch (IOException e) {
            throw new IOException("cannot create " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Creating already failed or succeeded; that outcome is the one to report.
                }
            }
        }
    }

    /**
     * Sets {@code file} to mode 0600 if its group or others may read or write it (a key file copied
     * in by hand, a file from before). A no-op on a file system without POSIX modes.
     *
     * @return true if the mode was changed
     * @throws IOException naming the file when its mode cannot be read or set
     */
    public static boolean restrictToOwner(Path file) throws IOException {
        Set<PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException notPosix) {
            return false;
        }
        if (OWNER_ONLY.containsAll(mode)) return false;
        try {
            Files.setPosixFilePermissions(file, OWNER_ONLY);
        } catch (FileSystemException e) {
            throw new IOException("cannot make " + file + " readable by its owner only: "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()), e);
        }
        return true;
    }
}
