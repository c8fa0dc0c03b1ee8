/**
 * The library's socket transport: {@link io.dataplane.tun.socket.SocketTransport}, one
 * {@link io.dataplane.core.spi.Transport} over FFM system calls for UDP and raw IP, driving a
 * {@link io.dataplane.tun.socket.TransportSocket} ({@code UdpSocket} or {@code RawIpSocket}, which
 * share the descriptor, the batches and the receive path in {@link io.dataplane.tun.socket.MmsgSocket})
 * in recvmmsg/sendmmsg batches straight from and into pool buffers. Every backend runs it by default,
 * in the library and in the node.
 */
package io.dataplane.tun.socket;
