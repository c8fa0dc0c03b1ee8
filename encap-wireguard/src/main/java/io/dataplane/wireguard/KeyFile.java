package io.dataplane.wireguard;

import io.dataplane.core.config.StateFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The node's private key file ({@code DIR/wgkey}): one line of base64 as {@code wg genkey} writes
 * it, readable by its owner only. Created with a fresh key when missing, so a node keeps its
 * identity across restarts, as flannel's wireguard backend does.
 */
public final class KeyFile {
    private KeyFile() {}

    /**
     * Reads the key at {@code path}, or creates the file (mode 0600, whole or not at all: see
     * {@link StateFile}) with a new key when it does not exist. An existing file that others may
     * read is set to 0600 first.
     *
     * @throws IOException naming the path when the file cannot be read or created, or holds no valid
     *     key (the message never contains the file's contents)
     */
    public static NoisePrivateKey loadOrCreate(Path path) throws IOException {
        if (!Files.exists(path)) {
            NoisePrivateKey key = NoisePrivateKey.generate();
            if (StateFile.create(path, key.toBase64() + "\n")) return key;
            // another process created it first: use theirs
        }
        StateFile.restrictToOwner(path);
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
