/**
 * The node: one member of a flannel-style overlay, as a library an agent embeds.
 *
 * <p>{@link io.dataplane.node.OverlayNode} is the entry point: {@link io.dataplane.node.NodeConfig}
 * (flannel's net-conf.json and this node's lease, plus local choices) in; a TUN configured as
 * flanneld configures its device, the backend of the configured type, the packet path; peers added
 * and removed from lease records while it runs; {@link io.dataplane.node.NodeStats} out; close.
 * {@link io.dataplane.node.PacketPathOptions} lays out the packet path (batches, rings, threads).
 * {@link io.dataplane.node.HostGwBackend} is flannel's host-gw, which has no packet path: its
 * peers are kernel routes, and a node running it makes no TUN.
 *
 * <pre>{@code
 * NetConf net = NetConf.read(Path.of("/etc/kube-flannel/net-conf.json"));
 * SubnetEnv lease = SubnetEnv.read(Path.of("/run/flannel/subnet.env"));
 * try (OverlayNode node = OverlayNode.start(NodeConfig.of(net, lease, Ipv4Address.parse("192.0.2.1")))) {
 *     publish(node.localLease().toJson());      // where the other nodes' agents read it
 *     for (Lease peer : Lease.readList(Path.of("peers.json"))) node.addPeer(peer);
 *     ...
 *     NodeStats s = node.stats();               // s.egressPackets(), s.drops(), ...
 * }
 * }</pre>
 */
package io.dataplane.node;
