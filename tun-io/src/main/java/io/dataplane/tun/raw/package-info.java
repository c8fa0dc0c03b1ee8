/**
 * Raw IPv4 sockets for one protocol number with batched send and receive:
 * {@link io.dataplane.tun.raw.RawIpSocket}, the socket of {@link io.dataplane.tun.socket.SocketTransport#rawIp}.
 */
package io.dataplane.tun.raw;
