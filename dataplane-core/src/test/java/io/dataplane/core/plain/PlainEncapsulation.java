package io.dataplane.core.plain;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.wire.Ipv4Header;

/** The inner IPv4 packet as the whole UDP payload, unchanged, to the peer's public IP at the network's port. */
final class PlainEncapsulation implements Encapsulation {
    private final AddressSet peers;
    private final PeerEntries entries;
    private final int port;
    private final int innerMtu;
    private final Ipv4Header egressIp = new Ipv4Header();
    private final Ipv4Header ingressIp = new Ipv4Header();

    PlainEncapsulation(AddressSet peers, PeerEntries entries, int port, int innerMtu) {
        this.peers = peers;
        this.entries = entries;
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
        PeerEntry peer = entries.get(nextHop);
        if (peer == null || !peer.covers(egressIp.wrap(packet.segment(), packet.offset()).dstAddr())) return DropReason.NO_ROUTE.ordinal();
        packet.setPeer(peer.endpoint(), port).setPeerEntry(peer);
        return FORWARD;
    }

    @Override
    public int decap(PacketBuffer packet) {
        int source = packet.peerAddress();
        int id = peers.peerId(source);
        if (id == AddressSet.ABSENT) return DropReason.UNKNOWN_PEER.ordinal();
        PeerEntry peer = entries.get(id);
        if (peer != null && peer.endpoint() == source) packet.setPeerEntry(peer);
        Ipv4Header ip = ingressIp.wrap(packet.segment(), packet.offset());
        int bad = ip.validate(packet.length());
        if (bad != Ipv4Header.VALID) return bad;
        if (!ip.verifyChecksum()) return DropReason.BAD_CHECKSUM.ordinal();
        if (ip.totalLength() > innerMtu) return DropReason.OVERSIZE.ordinal();
        packet.setLength(ip.totalLength());
        return FORWARD;
    }
}
