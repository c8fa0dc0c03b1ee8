package io.dataplane.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Reading and writing the small text files this package owns, with errors as {@link ConfigException}. */
final class ConfigFiles {
    /**
     * Upper bound for any file read here. flannel's files are a few hundred bytes and a peers.json
     * of thousands of nodes is still well under this; anything bigger is a mistake (a log file passed
     * by accident), and refusing it keeps a hostile file from costing memory.
     */
    static final int MAX_BYTES = 4 << 20;

    private ConfigFiles() {}

    /** The bytes of {@code file}, or a {@link ConfigException} saying why there are none. */
    static byte[] read(Path file) {
        String source = file.toString();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new ConfigException(source, null, "file too large: more than " + MAX_BYTES + " bytes");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, null, "file not found", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(source, null, "permission denied", e);
        } catch (FileSystemException e) {
            // Directories and the like: the reason is in getReason(), e.g. "Is a directory".
            throw new ConfigException(source, null, "cannot read: " + (e.getReason() != null ? e.getReason() : e.toString()), e);
        } catch (IOException e) {
            throw new ConfigException(source, null, "cannot read: " + e, e);
        }
    }

    /**
     * Replaces {@code file} with {@code bytes} atomically (temporary file, fsync, rename), as flanneld
     * does for subnet.env: readers
     * (a CNI plugin, a restarting node) see the old file or the new one, never half of it. Creates
     * the parent directories; the file ends up mode 0644 where the file system has POSIX modes.
     */
    static void writeAtomically(Path file, byte[] bytes) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true); // on disk before the rename makes it the file: a crash leaves the old file or the whole new one
            }
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // Keep the default mode on file systems without POSIX permissions.
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new ConfigException(file.toString(), null, "cannot write: " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The write already failed; that error is the one worth reporting.
                }
            }
        }
    }
}
