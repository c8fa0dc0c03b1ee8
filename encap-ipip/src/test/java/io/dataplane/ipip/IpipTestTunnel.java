package io.dataplane.ipip;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.testing.TunnelUnderTest;

/** IP-in-IP between B and us: the raw socket carries the outer IPv4 header with each datagram, both ways. */
final class IpipTestTunnel implements TunnelUnderTest {
    private static final int MTU = 1480;
    private static final int SELF = Ipv4Address.parse("192.0.2.1");
    private static final int PEER = Ipv4Address.parse("192.0.2.2");

    @Override
    public Encapsulation encapsulation() {
        PeerEntries entries = new PeerEntries();
        AddressSet peers = new AddressSet();
        peers.add(PEER, entries.add(null, PEER).id());
        return new IpipEncapsulation(IpipTunnelConfig.of(SELF, MTU), peers, entries);
    }

    /** The id of B's entry, the only one in A's peer entries. */
    @Override
    public int nextHop() {
        return 0;
    }

    /** The peer's outer header (protocol 4, DF, TTL 64, checksum good) in front of {@code inner}. */
    @Override
    public byte[] datagram(byte[] inner) {
        byte[] d = new byte[20 + inner.length];
        int total = Math.min(d.length, 0xffff);
        d[0] = 0x45;
        d[2] = (byte) (total >>> 8);
        d[3] = (byte) total;
        d[6] = 0x40;
        d[8] = 64;
        d[9] = 4;
        for (int k = 0; k < 4; k++) {
            d[12 + k] = (byte) (PEER >>> (24 - 8 * k));
            d[16 + k] = (byte) (SELF >>> (24 - 8 * k));
        }
        int sum = ~TcpSegment.sum(d, 0, 20, 0);
        d[10] = (byte) (sum >>> 8);
        d[11] = (byte) sum;
        System.arraycopy(inner, 0, d, 20, inner.length);
        return d;
    }

    @Override
    public int innerOffset(byte[] datagram) {
        return datagram.length == 0 ? Integer.MAX_VALUE / 2 : (datagram[0] & 0x0f) * 4;
    }

    @Override
    public int peer() {
        return PEER;
    }

    @Override
    public int peerPort() {
        return 0;
    }

    @Override
    public int innerMtu() {
        return MTU;
    }
}
