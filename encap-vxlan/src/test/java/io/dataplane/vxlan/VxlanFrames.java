package io.dataplane.vxlan;

import io.dataplane.core.wire.ArpPacket;
import io.dataplane.core.wire.ArpRepr;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.EthernetRepr;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.core.wire.VxlanHeader;
import io.dataplane.core.wire.VxlanRepr;
import java.lang.foreign.MemorySegment;

/** VXLAN UDP payloads built from the Reprs, for tests: what a peer VTEP would send us. */
final class VxlanFrames {
    private VxlanFrames() {}

    /** VXLAN header (I flag, {@code vni}), inner Ethernet header, then {@code payload}. */
    static byte[] datagram(int vni, MacAddress dst, MacAddress src, int ethertype, byte[] payload) {
        byte[] bytes = new byte[VxlanHeader.HEADER_LEN + EthernetHeader.HEADER_LEN + payload.length];
        MemorySegment s = MemorySegment.ofArray(bytes);
        new VxlanRepr(vni).emit(new VxlanHeader().wrap(s, 0));
        new EthernetRepr(dst, src, ethertype).emit(new EthernetHeader().wrap(s, VxlanHeader.HEADER_LEN));
        System.arraycopy(payload, 0, bytes, VxlanHeader.HEADER_LEN + EthernetHeader.HEADER_LEN, payload.length);
        return bytes;
    }

    /** The 28 bytes of an ARP packet. */
    static byte[] arp(ArpRepr repr) {
        byte[] bytes = new byte[ArpPacket.HEADER_LEN];
        repr.emit(new ArpPacket().wrap(MemorySegment.ofArray(bytes), 0));
        return bytes;
    }
}
