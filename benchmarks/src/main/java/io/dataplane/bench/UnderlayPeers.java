package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.Ipv4Repr;

/**
 * The tables of a node whose peers are reached at their public IPs (the ipip and udp backends):
 * peer {@code i} has the subnet 10.244.{i+1}.0/24 behind 192.0.{2 + i/250}.{1 + i%250}, in the route
 * table (subnet to peer id), the known-address set (public IP to peer id) and the peer entries.
 */
final class UnderlayPeers {
    final RouteTable routes = new RouteTable();
    final AddressSet known = new AddressSet();
    final PeerEntries entries = new PeerEntries();
    final int[] publicIps;

    UnderlayPeers(int peers) {
        publicIps = new int[peers];
        for (int i = 0; i < peers; i++) {
            publicIps[i] = Ipv4Address.parse("192.0." + (2 + i / 250) + "." + (1 + i % 250));
            Ipv4Prefix subnet = Ipv4Prefix.parse("10.244." + (i + 1) + ".0/24");
            int id = entries.add(subnet, publicIps[i]).id();
            routes.add(subnet, id);
            known.add(publicIps[i], id);
        }
    }

    /** Puts a UDP packet of {@code length} bytes from {@code src} to {@code dst} with TTL 64 into {@code p}. */
    static void fill(PacketBuffer p, int src, int dst, int length) {
        byte[] packet = new byte[length];
        for (int i = 0; i < packet.length; i++) packet[i] = (byte) (i * 31);
        p.put(packet);
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_UDP, 64, length - Ipv4Header.HEADER_LEN).emit(new Ipv4Header().wrap(p.segment(), p.offset()));
    }
}
