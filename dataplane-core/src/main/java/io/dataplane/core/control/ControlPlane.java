package io.dataplane.core.control;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;

/**
 * What drives a node: the network's configuration, this node's subnet lease, and the other nodes'
 * leases as they come and go. A store behind it (etcd with flanneld's keys, a node's files, the
 * embedding agent's own) decides where they live; the node only sees this.
 *
 * <pre>{@code
 * try (ControlPlane control = EtcdControlPlane.connect(options)) {
 *     NetConf net = control.network();                           // waits until the store has one that checks
 *     Lease ours = control.acquire(attrs, previousSubnet);       // held, published and renewed until close
 *     try (OverlayNode node = OverlayNode.start(NodeConfig.of(net, ours.subnet(), ours.publicIp()))) {
 *         control.watch(PeerEvents.of(node::addPeer, node::removePeer));
 *         ...
 *     }
 * }                                                              // the lease stays in the store
 * }</pre>
 *
 * <p>Calls come from one thread in this order: {@link #network}, {@link #acquire}, then
 * {@link #publish} and {@link #watch} as needed. Events reach the {@link PeerEvents} on a thread of
 * the implementation, one at a time.
 */
public interface ControlPlane extends AutoCloseable {

    /**
     * The network's configuration, checked with flannel's defaults and rules; waits while the store
     * has none or one that does not check, saying so.
     *
     * @throws InterruptedException when interrupted while waiting
     * @throws IOException when the store cannot be used at all (bad credentials, a closed plane)
     */
    NetConf network() throws IOException, InterruptedException;

    /**
     * Takes a subnet lease for a node with {@code attrs} and publishes it; from then on the lease is
     * kept: renewed before it expires, and taken again if it disappears from the store.
     *
     * @param attrs this node's public IP, backend type and data
     * @param previous the subnet this node held before (its subnet.env), preferred when still free; or null
     * @return our lease
     * @throws InterruptedException when interrupted while waiting for the store or a free subnet
     * @throws IOException when the store cannot be used at all
     */
    Lease acquire(LeaseAttrs attrs, Ipv4Prefix previous) throws IOException, InterruptedException;

    /**
     * Publishes our lease anew with {@code attrs} (same subnet), e.g. when the started node's data
     * differs from what {@link #acquire} was given.
     */
    void publish(LeaseAttrs attrs) throws IOException, InterruptedException;

    /**
     * Starts streaming the other nodes' leases to {@code events}: the current ones as added, then
     * every change. Our own lease and leases this node cannot use are not passed on.
     */
    void watch(PeerEvents events) throws IOException, InterruptedException;

    /** Stops renewing and watching. Our lease stays in the store: a restarted node takes it back. Idempotent. */
    @Override
    void close();
}
