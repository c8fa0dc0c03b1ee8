package io.dataplane.node.cli;

import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.node.OverlayNode;
import io.dataplane.wireguard.WireGuardBackend;
import io.dataplane.wireguard.WireGuardPeer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A peer's traffic where the backend counts it per peer: WireGuard's transfer and latest handshake,
 * as {@code wg show} prints them. The other backends count per node, not per peer: they have none.
 *
 * @param subnet the peer's subnet (its first allowed IP)
 * @param publicKey the peer's public key (base64)
 * @param endpointAddress the underlay address its packets go to (see {@link io.dataplane.core.wire.Ipv4Address}), 0 while unknown
 * @param endpointPort the underlay port, 0 while unknown
 * @param rxBytes transport bytes received from the peer
 * @param txBytes transport bytes sent to the peer
 * @param latestHandshakeEpochNanos wall-clock time of the last completed handshake, 0 if none
 */
record PeerTraffic(Ipv4Prefix subnet, String publicKey, int endpointAddress, int endpointPort, long rxBytes, long txBytes,
        long latestHandshakeEpochNanos) {

    /** The node's peers with traffic counted per peer, by subnet; empty unless the backend is wireguard. */
    static List<PeerTraffic> of(OverlayNode node) {
        if (!(node.backend() instanceof WireGuardBackend wireguard)) return List.of();
        List<PeerTraffic> out = new ArrayList<>();
        for (WireGuardPeer p : wireguard.encapsulation().peers()) {
            if (p.allowedIps().isEmpty()) continue;
            out.add(new PeerTraffic(p.allowedIps().getFirst(), p.publicKey().toBase64(), p.endpointAddress(), p.endpointPort(), p.rxBytes(),
                    p.txBytes(), p.lastHandshakeEpochNanos()));
        }
        out.sort(Comparator.comparingLong((PeerTraffic t) -> t.subnet().address() & 0xffffffffL).thenComparingInt(t -> t.subnet().length()));
        return out;
    }
}
