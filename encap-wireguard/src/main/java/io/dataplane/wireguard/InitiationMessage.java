package io.dataplane.wireguard;

/**
 * Layout of the handshake initiation (type 1, 148 bytes), all integers little-endian.
 *
 * <pre>
 *  0       4        8                  40                 88            116    132    148
 *  | type  | sender | ephemeral (32)   | static (32+16)   | ts (12+16)  | mac1 | mac2 |
 * </pre>
 *
 * Handshake messages are few and small, so they are handled as byte arrays copied out of the
 * packet buffer; only transport data is processed in place.
 */
public final class InitiationMessage {
    /** Offset of the sender index. */
    public static final int SENDER = 4;
    /** Offset of the unencrypted ephemeral public key. */
    public static final int EPHEMERAL = 8;
    /** Offset of the encrypted static public key (32 bytes + tag). */
    public static final int STATIC = 40;
    /** Offset of the encrypted TAI64N timestamp (12 bytes + tag). */
    public static final int TIMESTAMP = 88;
    /** Offset of mac1. */
    public static final int MAC1 = 116;
    /** Offset of mac2. */
    public static final int MAC2 = 132;
    /** Total size. */
    public static final int LEN = MAC2 + 16;

    private InitiationMessage() {}
}
