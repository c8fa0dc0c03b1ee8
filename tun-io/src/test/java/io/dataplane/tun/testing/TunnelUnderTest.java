package io.dataplane.tun.testing;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.wire.Ipv4Address;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.function.UnaryOperator;

/**
 * What {@link ReceiveFuzzing} and {@link SendFuzzing} need to know of a tunnel between node A
 * ({@link #SELF}, ours) and its one peer B ({@link #PEER}, whose pods are in 10.244.2.0/24).
 *
 * @param encapsulations makes a fresh encapsulation of A that takes datagrams from B and sends to it
 * @param nextHop the value of A's route to B's pod subnet that the encapsulation takes as its next hop
 * @param innerMtu the TUN's MTU
 * @param peerPort B's underlay port (0 for raw IP)
 * @param datagrams the datagram (what the transport hands up) that carries an inner packet from B
 * @param innerOffsets where the inner packet starts in a datagram, received or sent; beyond its end if it has none
 */
public record TunnelUnderTest(Supplier<Encapsulation> encapsulations, int nextHop, int innerMtu, int peerPort,
        UnaryOperator<byte[]> datagrams, ToIntFunction<byte[]> innerOffsets) {
    /** A's underlay address. */
    public static final int SELF = Ipv4Address.parse("192.0.2.1");
    /** B's underlay address. */
    public static final int PEER = Ipv4Address.parse("192.0.2.2");

    Encapsulation encapsulation() {
        return encapsulations.get();
    }

    byte[] datagram(byte[] inner) {
        return datagrams.apply(inner);
    }

    int innerOffset(byte[] datagram) {
        return innerOffsets.applyAsInt(datagram);
    }

    int peer() {
        return PEER;
    }
}
