package io.dataplane.core.control;

import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.function.Consumer;

/** Where a {@link ControlPlane} sends the other nodes' leases: one call at a time, in the store's order. */
public interface PeerEvents {

    /** A node's lease appeared, or one we knew changed its attributes (same subnet). */
    void put(Lease lease);

    /** The lease of {@code subnet} is gone (deleted, or expired). */
    void removed(Ipv4Prefix subnet);

    /** Events as two functions, e.g. {@code PeerEvents.of(node::addPeer, node::removePeer)}. */
    static PeerEvents of(Consumer<Lease> put, Consumer<Ipv4Prefix> removed) {
        return new PeerEvents() {
            @Override
            public void put(Lease lease) {
                put.accept(lease);
            }

            @Override
            public void removed(Ipv4Prefix subnet) {
                removed.accept(subnet);
            }
        };
    }
}
