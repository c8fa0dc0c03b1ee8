/**
 * flannel's {@code ipip} backend: {@link io.dataplane.ipip.IpipEncapsulation}, IP-in-IP (RFC 2003)
 * with the outer header written in place in the packet's headroom, sent through a raw IPv4 socket
 * for protocol 4 ({@code io.dataplane.tun.socket.SocketTransport.rawIp} in datagram mode), and {@link
 * io.dataplane.ipip.IpipBackend}, which turns peers' leases into routes and, with DirectRouting,
 * into kernel routes for the peers on our own link.
 *
 * <p>A node assembles it as:
 * <pre>{@code
 * IpipBackend backend = IpipBackend.open(new BackendContext(netConf, subnet, publicIp, "flannel.ipip",
 *         underlayMtu - 20, pool, stateDir));
 * Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool));
 * for (Lease lease : leases) if (!lease.subnet().equals(subnet)) backend.addPeer(lease);
 * }</pre>
 */
package io.dataplane.ipip;
