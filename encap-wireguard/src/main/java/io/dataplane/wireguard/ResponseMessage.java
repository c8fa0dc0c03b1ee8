package io.dataplane.wireguard;

/**
 * Layout of the handshake response (type 2, 92 bytes), all integers little-endian.
 *
 * <pre>
 *  0       4        8          12                 44             60     76     92
 *  | type  | sender | receiver | ephemeral (32)   | empty (0+16) | mac1 | mac2 |
 * </pre>
 */
public final class ResponseMessage {
    /** Offset of the sender index. */
    public static final int SENDER = 4;
    /** Offset of the receiver index (the initiator's sender index). */
    public static final int RECEIVER = 8;
    /** Offset of the unencrypted ephemeral public key. */
    public static final int EPHEMERAL = 12;
    /** Offset of the encrypted empty payload (its tag only). */
    public static final int EMPTY = 44;
    /** Offset of mac1. */
    public static final int MAC1 = 60;
    /** Offset of mac2. */
    public static final int MAC2 = 76;
    /** Total size. */
    public static final int LEN = MAC2 + 16;

    private ResponseMessage() {}
}
