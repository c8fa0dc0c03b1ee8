/**
 * flannel's {@code udp} backend: {@link io.dataplane.udp.UdpEncapsulation}, the inner IPv4 packet as
 * the whole UDP payload (port 8285) with the TTL and ICMP rules of flannel's C proxy, and {@link
 * io.dataplane.udp.UdpBackend}, which turns peers' leases into routes and opens the socket.
 *
 * <p>Not to be confused with {@link io.dataplane.tun.udp}, the UDP socket transport every
 * UDP-based backend (this one, vxlan, wireguard) sends and receives through.
 *
 * <p>A node assembles it as:
 * <pre>{@code
 * UdpBackend backend = UdpBackend.open(new BackendContext(netConf, subnet, publicIp, "flannel0",
 *         underlayMtu - 28, pool, stateDir));
 * Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool));
 * for (Lease lease : leases) if (!lease.subnet().equals(subnet)) backend.addPeer(lease);
 * }</pre>
 */
package io.dataplane.udp;
