package io.dataplane.wireguard;

/**
 * The four WireGuard message types and their sizes. The type is a little-endian u32 whose upper
 * three bytes are reserved zeros, so reading the first four bytes as one number rejects a message
 * with garbage in them, as wireguard-go does.
 *
 * <pre>
 *  type 1 initiation   148 bytes   type 2 response   92 bytes
 *  type 3 cookie reply  64 bytes   type 4 transport  16-byte header + ciphertext + 16-byte tag
 * </pre>
 */
public final class MessageType {
    /** Handshake initiation. */
    public static final int INITIATION = 1;
    /** Handshake response. */
    public static final int RESPONSE = 2;
    /** Cookie reply. */
    public static final int COOKIE_REPLY = 3;
    /** Transport data. */
    public static final int TRANSPORT = 4;

    /** Size of an initiation. */
    public static final int INITIATION_LEN = 148;
    /** Size of a response. */
    public static final int RESPONSE_LEN = 92;
    /** Size of a cookie reply. */
    public static final int COOKIE_REPLY_LEN = 64;
    /** Size of the transport header in front of the ciphertext. */
    public static final int TRANSPORT_HEADER_LEN = 16;
    /** Size of the Poly1305 tag after the ciphertext. */
    public static final int TAG_LEN = 16;
    /** Size of a keepalive: a transport message with an empty payload. */
    public static final int KEEPALIVE_LEN = TRANSPORT_HEADER_LEN + TAG_LEN;
    /** Transport payloads are zero-padded to a multiple of this. */
    public static final int PADDING_MULTIPLE = 16;

    private MessageType() {}
}
