package io.dataplane.ipip;

import static io.dataplane.ipip.IpipEncapsulationTest.INNER;
import static io.dataplane.ipip.IpipEncapsulationTest.OUTER;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.testing.EncapsulationConformanceTest;
import io.dataplane.core.wire.Ipv4Header;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * IP-in-IP against the encapsulation conformance suite; the bad datagrams are changes to the
 * golden frame from A to B ({@link IpipEncapsulationTest#OUTER} and {@link IpipEncapsulationTest#INNER}).
 */
class IpipEncapsulationConformanceTest extends EncapsulationConformanceTest {
    static final int MTU = 1480;

    @Override
    protected Encapsulation encapsulation(int self, int peer) {
        PeerEntries entries = new PeerEntries();
        AddressSet peers = new AddressSet();
        peers.add(peer, entries.add(null, peer).id());
        return new IpipEncapsulation(IpipTunnelConfig.of(self, MTU), peers, entries);
    }

    /** The id of B's entry, the only one in A's peer entries: what A's route to B's subnet holds. */
    @Override
    protected int nextHopToB() {
        return 0;
    }

    @Override
    protected int innerMtu() {
        return MTU;
    }

    /** The golden frame with {@code change} applied to a copy (offsets from the start of the outer header). */
    private static byte[] golden(Consumer<byte[]> change) {
        byte[] frame = new byte[OUTER.length + INNER.length];
        System.arraycopy(OUTER, 0, frame, 0, OUTER.length);
        System.arraycopy(INNER, 0, frame, OUTER.length, INNER.length);
        change.accept(frame);
        return frame;
    }

    /** Fixes the checksum of the IPv4 header at {@code at} after a change. */
    private static void fixChecksum(byte[] frame, int at) {
        new Ipv4Header().wrap(MemorySegment.ofArray(frame), at).fillChecksum();
    }

    @Override
    protected List<BadDatagram> badDatagrams() {
        byte[] shortInner = golden(f -> { });
        shortInner = Arrays.copyOf(shortInner, 20 + 19);
        shortInner[3] = 39;
        fixChecksum(shortInner, 0);
        return List.of(
                new BadDatagram("outer header cut short", DropReason.TRUNCATED, Arrays.copyOf(OUTER, 19)),
                new BadDatagram("outer version 6", DropReason.NOT_IPV4, golden(f -> f[0] = 0x65)),
                new BadDatagram("outer IHL 4", DropReason.BAD_IHL, golden(f -> f[0] = 0x44)),
                new BadDatagram("outer total length beyond the datagram", DropReason.BAD_TOTAL_LENGTH, golden(f -> f[3] = (byte) 0x41)),
                new BadDatagram("outer checksum", DropReason.BAD_CHECKSUM, golden(f -> f[11] ^= 1)),
                new BadDatagram("another protocol", DropReason.IPIP_BAD_OUTER, golden(f -> {
                    f[9] = Ipv4Header.PROTO_UDP;
                    fixChecksum(f, 0);
                })),
                new BadDatagram("a fragment", DropReason.IPIP_BAD_OUTER, golden(f -> {
                    f[6] = 0x20; // MF
                    fixChecksum(f, 0);
                })),
                new BadDatagram("inner header cut short", DropReason.TRUNCATED, shortInner),
                new BadDatagram("inner not IPv4", DropReason.NOT_IPV4, golden(f -> {
                    f[20] = 0x65;
                    fixChecksum(f, 20);
                })),
                new BadDatagram("inner total length beyond the outer payload", DropReason.BAD_TOTAL_LENGTH, golden(f -> {
                    f[23] = 45;
                    fixChecksum(f, 20);
                })),
                new BadDatagram("inner checksum", DropReason.BAD_CHECKSUM, golden(f -> f[31] ^= 1)),
                new BadDatagram("inner TTL 0", DropReason.TTL_EXPIRED, golden(f -> {
                    f[28] = 0;
                    fixChecksum(f, 20);
                })),
                new BadDatagram("CE around a packet that is not ECN-capable", DropReason.ECN_CE_NOT_ECT, golden(f -> {
                    f[1] = 3;
                    fixChecksum(f, 0);
                })));
    }
}
