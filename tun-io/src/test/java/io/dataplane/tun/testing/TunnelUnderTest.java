package io.dataplane.tun.testing;

import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.wire.Ipv4Address;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.function.UnaryOperator;
import java.util.function.IntUnaryOperator;

/**
 * What {@link ReceiveFuzzing} and {@link SendFuzzing} need to know of a tunnel between node A
 * ({@link #SELF}, ours) and its one peer B ({@link #PEER}, whose pods are in 10.244.2.0/24).
 *
 * @param encapsulations makes a fresh encapsulation of A that takes datagrams from B and sends to it
 *     (a sealing tunnel may give the same one each time: its session lives on)
 * @param nextHop the value of A's route to B's pod subnet that the encapsulation takes as its next hop
 * @param innerMtu the TUN's MTU
 * @param peerPort B's underlay port (0 for raw IP)
 * @param datagrams the datagram (what the transport hands up) that carries an inner packet from B
 * @param innerOffsets where the inner packet starts in a datagram, received or sent; beyond its end if it has none
 *     (in a sealed datagram, where its ciphertext starts)
 * @param inners the inner bytes a datagram carries as its sender put them, null if it carries none:
 *     the bytes from its inner offset, or what a sealing tunnel's receiver opens (its padding
 *     included; null for a datagram that does not open); called once per datagram, in the order
 *     the datagrams were received or sent
 * @param paddedLengths how many inner bytes a datagram carrying an inner packet of {@code n} bytes
 *     holds: {@code n}, or more where the tunnel pads before sealing (with zeros)
 * @param rejectsReplays true if the tunnel delivers each datagram at most once, a repeated one
 *     never (WireGuard's replay window)
 * @param keepalives true if the datagram of an empty inner packet is a keepalive, which the
 *     tunnel takes (its {@code decap} says {@code CONSUMED}) and hands nothing of to the TUN
 *     (WireGuard's empty transport message); its inner bytes are then empty
 */
public record TunnelUnderTest(Supplier<Encapsulation> encapsulations, int nextHop, int innerMtu, int peerPort,
        UnaryOperator<byte[]> datagrams, ToIntFunction<byte[]> innerOffsets, UnaryOperator<byte[]> inners,
        IntUnaryOperator paddedLengths, boolean rejectsReplays, boolean keepalives) {
    /** A's underlay address. */
    public static final int SELF = Ipv4Address.parse("192.0.2.1");
    /** B's underlay address. */
    public static final int PEER = Ipv4Address.parse("192.0.2.2");

    /** A tunnel that carries the inner packet as it is, from its inner offset on. */
    public TunnelUnderTest(Supplier<Encapsulation> encapsulations, int nextHop, int innerMtu, int peerPort,
            UnaryOperator<byte[]> datagrams, ToIntFunction<byte[]> innerOffsets) {
        this(encapsulations, nextHop, innerMtu, peerPort, datagrams, innerOffsets, d -> {
            int off = innerOffsets.applyAsInt(d);
            return off < 0 || off > d.length ? null : Arrays.copyOfRange(d, off, d.length);
        }, IntUnaryOperator.identity(), false, false);
    }

    Encapsulation encapsulation() {
        return encapsulations.get();
    }

    byte[] datagram(byte[] inner) {
        return datagrams.apply(inner);
    }

    int innerOffset(byte[] datagram) {
        return innerOffsets.applyAsInt(datagram);
    }

    byte[] inner(byte[] datagram) {
        return inners.apply(datagram);
    }

    int paddedLength(int n) {
        return paddedLengths.applyAsInt(n);
    }

    int peer() {
        return PEER;
    }

    /** True for a raw IP tunnel (no underlay port), whose transport sends a super-packet one datagram per segment, without GSO. */
    boolean rawIp() {
        return peerPort == 0;
    }
}
