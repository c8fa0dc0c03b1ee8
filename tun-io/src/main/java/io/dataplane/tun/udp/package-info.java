/**
 * The IPv4 UDP socket over FFM ({@link io.dataplane.tun.udp.UdpSocket}: recvmmsg and sendmmsg
 * batches straight from and into {@link io.dataplane.core.buffer.PacketPool} buffers, TCP
 * super-packets sent with UDP GSO) under {@link io.dataplane.tun.socket.SocketTransport#udp}, and
 * how a UDP transport is configured ({@link io.dataplane.tun.udp.UdpTransportConfig}).
 */
package io.dataplane.tun.udp;
