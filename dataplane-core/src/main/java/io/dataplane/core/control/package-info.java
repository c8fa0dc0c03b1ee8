/**
 * The node's control plane: the {@link io.dataplane.core.control.ControlPlane} a node is driven by
 * (the network's configuration, our subnet lease, the other nodes' leases as
 * {@link io.dataplane.core.control.PeerEvents}), and the store-independent parts of flanneld's
 * behaviour that every implementation shares: subnet key names ({@link io.dataplane.core.control.SubnetKey}),
 * the choice of a subnet ({@link io.dataplane.core.control.SubnetChoice}) and the peers known from
 * a store's keys ({@link io.dataplane.core.control.PeerSet}). The etcd implementation is in the
 * module control-etcd, so that an agent with its own store needs no etcd client.
 */
package io.dataplane.core.control;
