package io.dataplane.core.wire;

/**
 * An Ethernet II header as values.
 *
 * @param dstMac destination MAC address
 * @param srcMac source MAC address
 * @param ethertype 0-65535 (see {@link EthernetHeader#ETHERTYPE_IPV4} and friends)
 */
public record EthernetRepr(MacAddress dstMac, MacAddress srcMac, int ethertype) {

    /** Checks the fields; throws {@link IllegalArgumentException} naming the field and value. */
    public EthernetRepr {
        if (dstMac == null) throw new IllegalArgumentException("Ethernet dstMac missing: null");
        if (srcMac == null) throw new IllegalArgumentException("Ethernet srcMac missing: null");
        if (ethertype < 0 || ethertype > 0xffff) {
            throw new IllegalArgumentException("Ethernet ethertype out of range: ethertype=" + ethertype + " (0-65535)");
        }
    }

    /** Reads a header that passed {@link EthernetHeader#validate}. */
    public static EthernetRepr parse(EthernetHeader header) {
        return new EthernetRepr(new MacAddress(header.dstMac()), new MacAddress(header.srcMac()), header.ethertype());
    }

    /** Writes all 14 bytes. */
    public void emit(EthernetHeader header) {
        header.setDstMac(dstMac.value()).setSrcMac(srcMac.value()).setEthertype(ethertype);
    }

    @Override
    public String toString() {
        return "EthernetRepr[" + srcMac + " -> " + dstMac + " type=0x" + Integer.toHexString(ethertype) + "]";
    }
}
