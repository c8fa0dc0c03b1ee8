package io.dataplane.wireguard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The node's private key file ({@code DIR/wgkey}): one line of base64 as {@code wg genkey} writes
 * it, readable by its owner only. Created with a fresh key when missing, so a node keeps its
 * identity across restarts, as flannel's wireguard backend does.
 */
public final class KeyFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private KeyFile() {}

    /**
     * Reads the key at {@code path}, or creates the file (mode 0600) with a new key when it does not
     * exist.
     *
     * @throws IOException naming the path when the file cannot be read or created, or holds no valid
     *     key (the message never contains the file's contents)
     */
    public static NoisePrivateKey loadOrCreate(Path path) throws IOException {
        if (!Files.exists(path)) {
            NoisePrivateKey key = NoisePrivateKey.generate();
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                Files.writeString(path, key.toBase64() + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
                return key;
            } catch (FileAlreadyExistsException raced) {
                // another process created it first: use theirs
            }
        }
        String text;
        try {
            text = Files.readString(path, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new IOException("cannot read WireGuard key file " + path + ": " + e.getClass().getSimpleName(), e);
        }
        try {
            return NoisePrivateKey.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("WireGuard key file " + path + " holds no valid key: " + e.getMessage());
        }
    }
}
