package io.dataplane.core.plain;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.wire.Ipv4Header;

/** The inner IPv4 packet as the whole UDP payload, unchanged, to the peer's public IP at the network's port. */
final class PlainEncapsulation implements Encapsulation {
    private final AddressSet peers;
    private final int port;
    private final int innerMtu;
    private final Ipv4Header ingressIp = new Ipv4Header();

    PlainEncapsulation(AddressSet peers, int port, int innerMtu) {
        this.peers = peers;
        this.port = port;
        this.innerMtu = innerMtu;
    }

    /** Nothing: the socket writes the outer headers. */
    @Override
    public int headroom() {
        return 0;
    }

    @Override
    public int overhead() {
        return PlainBackendProvider.PLAIN.overhead();
    }

    @Override
    public int encap(PacketBuffer packet, int nextHop) {
        packet.setPeer(nextHop, port);
        return FORWARD;
    }

    @Override
    public int decap(PacketBuffer packet) {
        if (!peers.contains(packet.peerAddress())) return DropReason.UNKNOWN_PEER.ordinal();
        Ipv4Header ip = ingressIp.wrap(packet.segment(), packet.offset());
        int bad = ip.validate(packet.length());
        if (bad != Ipv4Header.VALID) return bad;
        if (!ip.verifyChecksum()) return DropReason.BAD_CHECKSUM.ordinal();
        if (ip.totalLength() > innerMtu) return DropReason.OVERSIZE.ordinal();
        packet.setLength(ip.totalLength());
        return FORWARD;
    }
}
