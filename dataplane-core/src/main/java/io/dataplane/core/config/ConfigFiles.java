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

    /** The file type bits of a {@code unix:mode} attribute ({@code stat(2)}'s {@code st_mode}). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;

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
     * the parent directories; the file ends up mode 0644 where the file system has POSIX modes. A
     * symbolic link stays and its file is replaced; a character device such as {@code /dev/null}
     * takes the bytes and stays what it is; anything else that is not a regular file is refused
     * ({@link #existingTarget}).
     */
    static void writeAtomically(Path file, byte[] bytes) {
        Path target;
        try {
            target = existingTarget(file);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), null, "cannot write: " + e, e);
        }
        if (target != null && isCharacterDevice(target)) {
            writeInto(file, target, bytes);
            return;
        }
        Path dir = (target != null ? target : file.toAbsolutePath()).getParent();
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
            Path renamedOver = target != null ? target : file;
            try {
                Files.move(tmp, renamedOver, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, renamedOver, StandardCopyOption.REPLACE_EXISTING);
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

    /**
     * What a write to {@code file} replaces: null when nothing is there yet; the file itself when it
     * is a regular file; what a symbolic link resolves to (a link to a regular file keeps pointing at
     * it, the file is renamed over where it lies); a character device as it is ({@code /dev/null}
     * takes the bytes and stays a device).
     *
     * @throws ConfigException for anything else there (a directory, a FIFO, a socket, a block
     *     device), which renaming a new file over it would replace or which a write could block on
     */
    private static Path existingTarget(Path file) throws IOException {
        if (!Files.exists(file)) return null;
        Path real = file.toRealPath();
        if (Files.isRegularFile(real) || isCharacterDevice(real)) return real;
        throw new ConfigException(file.toString(), null, "not a regular file but " + kindOf(real)
                + ": it is written by renaming a new file over it, which would replace " + real);
    }

    private static boolean isCharacterDevice(Path path) {
        return (mode(path) & S_IFMT) == S_IFCHR;
    }

    private static int mode(Path path) {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0; // no unix view: nothing here is a device
        }
    }

    private static String kindOf(Path path) {
        if (Files.isDirectory(path)) return "a directory";
        return switch (mode(path) & S_IFMT) {
            case S_IFIFO -> "a FIFO";
            case S_IFSOCK -> "a socket";
            case S_IFBLK -> "a block device";
            default -> "a special file";
        };
    }

    /** Writes {@code bytes} into the character device {@code device} as it is, neither created nor renamed over. */
    private static void writeInto(Path file, Path device, byte[] bytes) {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), null, "cannot write: " + e, e);
        }
    }
}
