package io.dataplane.tun;

import io.dataplane.tun.sys.Structs;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Linux network interface names: what the kernel accepts ({@code dev_valid_name}), checked before a
 * name reaches a system call so the error names the name instead of saying EINVAL.
 */
public final class InterfaceName {
    /** Longest name in bytes ({@code IFNAMSIZ - 1}). */
    public static final int MAX_LENGTH = Structs.IFNAMSIZ - 1;

    private InterfaceName() {}

    /**
     * Returns {@code name} if the kernel would accept it as an interface name.
     *
     * @throws IllegalArgumentException naming the name and what is wrong: empty, longer than 15
     *     bytes, "." or "..", or containing '/', ':' or white space
     */
    public static String check(String name) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("interface name is empty");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_LENGTH) {
            throw new IllegalArgumentException("interface name too long: \"" + name + "\" (" + bytes + " bytes, max " + MAX_LENGTH + ")");
        }
        if (name.equals(".") || name.equals("..")) throw new IllegalArgumentException("interface name not allowed: \"" + name + "\"");
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || Character.isWhitespace(c) || c == 0) {
                throw new IllegalArgumentException("interface name contains '" + (c == 0 ? "\\0" : String.valueOf(c)) + "': \"" + name + "\"");
            }
        }
        return name;
    }

    /** Writes {@code name} (checked) NUL-padded into the 16-byte name field at {@code offset}. */
    public static void write(MemorySegment segment, long offset, String name) {
        byte[] b = check(name).getBytes(StandardCharsets.UTF_8);
        segment.asSlice(offset, Structs.IFNAMSIZ).fill((byte) 0);
        MemorySegment.copy(MemorySegment.ofArray(b), 0, segment, offset, b.length);
    }

    /** Reads a NUL-terminated name from the 16-byte name field at {@code offset}. */
    public static String read(MemorySegment segment, long offset) {
        return segment.asSlice(offset, Structs.IFNAMSIZ).getString(0, StandardCharsets.UTF_8);
    }
}
