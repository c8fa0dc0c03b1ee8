package io.dataplane.core.wire;

/**
 * The header of an ICMPv4 message as values: type, code and the 32 bits after the checksum, which
 * the echo messages split into identifier and sequence number and fragmentation-needed into an
 * unused half and the next-hop MTU. The data (echo payload, quoted datagram) is not part of it:
 * it stays in the buffer, and {@link #emit} checksums it there. The checksum is not a field.
 *
 * @param type message type, 0-255 (see {@link Icmpv4Header#TYPE_ECHO_REQUEST} and friends)
 * @param code message code, 0-255
 * @param restOfHeader the 32 bits after the checksum
 */
public record Icmpv4Repr(int type, int code, int restOfHeader) {

    /** Checks type and code; throws {@link IllegalArgumentException} naming the field and value. */
    public Icmpv4Repr {
        if (type < 0 || type > 255) throw new IllegalArgumentException("ICMP type out of range: type=" + type + " (0-255)");
        if (code < 0 || code > 255) throw new IllegalArgumentException("ICMP code out of range: code=" + code + " (0-255)");
    }

    /** An echo request. */
    public static Icmpv4Repr echoRequest(int identifier, int sequence) {
        return new Icmpv4Repr(Icmpv4Header.TYPE_ECHO_REQUEST, 0, echoRest(identifier, sequence));
    }

    /** An echo reply. */
    public static Icmpv4Repr echoReply(int identifier, int sequence) {
        return new Icmpv4Repr(Icmpv4Header.TYPE_ECHO_REPLY, 0, echoRest(identifier, sequence));
    }

    /** A destination unreachable message with {@code code} (0-15) and the unused field zero. */
    public static Icmpv4Repr destinationUnreachable(int code) {
        return new Icmpv4Repr(Icmpv4Header.TYPE_DEST_UNREACHABLE, code, 0);
    }

    /**
     * A "fragmentation needed and DF set" message (type 3, code 4) carrying the next-hop MTU
     * (RFC 1191): what a tunnel sends back for a packet too big for it.
     *
     * @throws IllegalArgumentException naming the value if the MTU is outside 68-65535
     */
    public static Icmpv4Repr fragmentationNeeded(int nextHopMtu) {
        if (nextHopMtu < 68 || nextHopMtu > 0xffff) {
            throw new IllegalArgumentException("next-hop MTU out of range: nextHopMtu=" + nextHopMtu + " (68-65535)");
        }
        return new Icmpv4Repr(Icmpv4Header.TYPE_DEST_UNREACHABLE, Icmpv4Header.CODE_FRAGMENTATION_NEEDED, nextHopMtu);
    }

    /** A time exceeded message with {@code code} (0: TTL exceeded in transit). */
    public static Icmpv4Repr timeExceeded(int code) {
        return new Icmpv4Repr(Icmpv4Header.TYPE_TIME_EXCEEDED, code, 0);
    }

    private static int echoRest(int identifier, int sequence) {
        if (identifier < 0 || identifier > 0xffff) throw new IllegalArgumentException("ICMP identifier out of range: identifier=" + identifier + " (0-65535)");
        if (sequence < 0 || sequence > 0xffff) throw new IllegalArgumentException("ICMP sequence out of range: sequence=" + sequence + " (0-65535)");
        return identifier << 16 | sequence;
    }

    /** Reads the header of a message that passed {@link Icmpv4Header#validate}. */
    public static Icmpv4Repr parse(Icmpv4Header header) {
        return new Icmpv4Repr(header.type(), header.code(), header.restOfHeader());
    }

    /**
     * Writes type, code and the rest of the header, then the checksum over the whole message of
     * {@code length} bytes (at least 8), whose data must already be in place after the header.
     */
    public void emit(Icmpv4Header header, int length) {
        header.setType(type).setCode(code).setRestOfHeader(restOfHeader).fillChecksum(length);
    }

    /** The echo identifier (high half of the rest of the header). */
    public int identifier() {
        return restOfHeader >>> 16;
    }

    /** The echo sequence number (low half of the rest of the header). */
    public int sequence() {
        return restOfHeader & 0xffff;
    }

    /** The next-hop MTU of fragmentation needed (low half of the rest of the header). */
    public int nextHopMtu() {
        return restOfHeader & 0xffff;
    }
}
