package io.dataplane.vxlan;

import io.dataplane.core.config.StateFile;
import io.dataplane.core.wire.MacAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.random.RandomGenerator;

/**
 * Our VTEP's MAC address, kept across restarts in the backend's state directory so that a restarted
 * node keeps the MAC its peers have in their neighbor and FDB tables (the kernel keeps
 * {@code flannel.1}'s MAC for the life of the device; a new one would strand the peers until they
 * see our new lease).
 *
 * <p>The file is {@code <stateDir>/vtep-mac}: one line, the MAC address in lower-case colon
 * notation and a newline ({@code 0e:4f:a1:22:7c:10\n}). Leading and trailing white space is
 * ignored on reading. It is written once, when no file is there, mode 0600, whole or not at all
 * ({@link StateFile}), so a crash or a full disk never leaves half an address behind.
 */
public final class VtepMacFile {
    /** The file's name within the state directory. */
    public static final String FILE_NAME = "vtep-mac";

    private VtepMacFile() {}

    /**
     * The MAC address kept in {@code stateDir}, or a new random locally administered unicast one,
     * written there first, when there is none yet.
     *
     * @throws IOException when the file cannot be read or written, or holds no unicast MAC address
     *     (naming the file and its content); the file is never replaced silently
     */
    public static MacAddress loadOrCreate(Path stateDir, RandomGenerator random) throws IOException {
        Path file = stateDir.resolve(FILE_NAME);
        MacAddress kept = read(file);
        if (kept != null) return kept;
        MacAddress mac = MacAddress.randomLocallyAdministered(random);
        if (StateFile.create(file, mac + "\n")) return mac;
        return read(file); // another process created it first: use theirs
    }

    /** The MAC address in {@code file}, or null if there is no such file. */
    static MacAddress read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return null;
        }
        String trimmed = text.strip();
        MacAddress mac;
        try {
            mac = MacAddress.parse(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IOException("VTEP MAC file " + file + " holds no MAC address: \"" + shorten(trimmed) + "\"", e);
        }
        if (mac.isMulticast() || mac.value() == 0) {
            throw new IOException("VTEP MAC file " + file + " holds no unicast MAC address: " + mac);
        }
        return mac;
    }

    private static String shorten(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
