package io.dataplane.wireguard;

/**
 * Layout of the cookie reply (type 3, 64 bytes), all integers little-endian.
 *
 * <pre>
 *  0       4          8             32                    64
 *  | type  | receiver | nonce (24)  | cookie (16 + 16)    |
 * </pre>
 *
 * The cookie is encrypted with XChaCha20-Poly1305 under HASH("cookie--" || responder public key),
 * with the mac1 of the message it answers as additional data.
 */
public final class CookieReplyMessage {
    /** Offset of the receiver index (the sender index of the message it answers). */
    public static final int RECEIVER = 4;
    /** Offset of the random 24-byte nonce. */
    public static final int NONCE = 8;
    /** Offset of the encrypted cookie. */
    public static final int COOKIE = 32;
    /** Total size. */
    public static final int LEN = COOKIE + 32;

    private CookieReplyMessage() {}
}
