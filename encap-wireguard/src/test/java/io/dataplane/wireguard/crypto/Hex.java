package io.dataplane.wireguard.crypto;

import java.util.HexFormat;

/** Hex for test vectors. */
public final class Hex {
    private Hex() {}

    /** Bytes of {@code hex}, whitespace ignored. */
    public static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replaceAll("\\s", ""));
    }

    /** Lower-case hex of {@code b}. */
    public static String of(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
