package io.dataplane.core.wire;

/**
 * An ARP packet for IPv4 over Ethernet as values. {@link #emit} also writes the fixed hardware and
 * protocol types and lengths.
 *
 * @param operation {@link ArpPacket#OP_REQUEST} or {@link ArpPacket#OP_REPLY} (any 0-65535 is kept)
 * @param senderMac sender hardware address
 * @param senderAddr sender IPv4 address (see {@link Ipv4Address})
 * @param targetMac target hardware address ({@link MacAddress#ZERO} in a request)
 * @param targetAddr target IPv4 address
 */
public record ArpRepr(int operation, MacAddress senderMac, int senderAddr, MacAddress targetMac, int targetAddr) {

    /** Checks the fields; throws {@link IllegalArgumentException} naming the field and value. */
    public ArpRepr {
        if (operation < 0 || operation > 0xffff) throw new IllegalArgumentException("ARP operation out of range: operation=" + operation + " (0-65535)");
        if (senderMac == null) throw new IllegalArgumentException("ARP senderMac missing: null");
        if (targetMac == null) throw new IllegalArgumentException("ARP targetMac missing: null");
    }

    /** A request from {@code senderMac}/{@code senderAddr} for the MAC address of {@code targetAddr}. */
    public static ArpRepr request(MacAddress senderMac, int senderAddr, int targetAddr) {
        return new ArpRepr(ArpPacket.OP_REQUEST, senderMac, senderAddr, MacAddress.ZERO, targetAddr);
    }

    /** The reply to this request that says {@link #targetAddr} is at {@code mac}. */
    public ArpRepr replyFrom(MacAddress mac) {
        return new ArpRepr(ArpPacket.OP_REPLY, mac, targetAddr, senderMac, senderAddr);
    }

    /** Reads a packet that passed {@link ArpPacket#validate}. */
    public static ArpRepr parse(ArpPacket packet) {
        return new ArpRepr(packet.operation(), new MacAddress(packet.senderMac()), packet.senderAddr(),
                new MacAddress(packet.targetMac()), packet.targetAddr());
    }

    /** Writes all 28 bytes. */
    public void emit(ArpPacket packet) {
        packet.setHardwareType(ArpPacket.HTYPE_ETHERNET)
                .setProtocolType(ArpPacket.PTYPE_IPV4)
                .setLengths(MacAddress.LENGTH, 4)
                .setOperation(operation)
                .setSenderMac(senderMac.value())
                .setSenderAddr(senderAddr)
                .setTargetMac(targetMac.value())
                .setTargetAddr(targetAddr);
    }

    @Override
    public String toString() {
        return "ArpRepr[op=" + operation + " " + senderMac + "/" + Ipv4Address.toString(senderAddr) + " -> "
                + targetMac + "/" + Ipv4Address.toString(targetAddr) + "]";
    }
}
