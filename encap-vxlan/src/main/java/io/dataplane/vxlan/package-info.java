/**
 * flannel's {@code vxlan} backend in user space: {@link io.dataplane.vxlan.VxlanEncapsulation}, a
 * VTEP byte-compatible with the kernel's {@code flannel.1} (RFC 7348, VNI 1, port 8472 by default),
 * and {@link io.dataplane.vxlan.VxlanBackend}, which turns peers' leases into the route, neighbor
 * and FDB entries flanneld would program and opens the UDP socket.
 *
 * <p>A node assembles it as:
 * <pre>{@code
 * VxlanBackend backend = VxlanBackend.open(new BackendContext(netConf, subnet, publicIp, "flannel.1",
 *         underlayMtu - 50, pool, stateDir));
 * Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool));
 * for (Lease lease : leases) if (!lease.subnet().equals(subnet)) backend.addPeer(lease);
 * publish(backend.localLease());
 * }</pre>
 */
package io.dataplane.vxlan;
