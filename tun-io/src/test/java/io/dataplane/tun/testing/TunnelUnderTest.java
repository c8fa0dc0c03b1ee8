package io.dataplane.tun.testing;

import io.dataplane.core.spi.Encapsulation;

/**
 * What {@link ReceiveFuzzing} and {@link SendFuzzing} need to know of a tunnel: node A (ours) and
 * its one peer B, whose pods are in 10.244.2.0/24.
 */
public interface TunnelUnderTest {
    /** A fresh encapsulation of A that takes datagrams from {@link #peer()} and sends to it. */
    Encapsulation encapsulation();

    /** The value of A's route to B's pod subnet that the encapsulation takes as its next hop. */
    int nextHop();

    /** The datagram (what the transport hands up) that carries {@code inner} from the peer. */
    byte[] datagram(byte[] inner);

    /** Where the inner packet starts in {@code datagram}, received or sent; beyond its end if it has none. */
    int innerOffset(byte[] datagram);

    /** The peer's underlay address. */
    int peer();

    /** The peer's underlay port (0 for raw IP). */
    int peerPort();

    /** The TUN's MTU. */
    int innerMtu();
}
