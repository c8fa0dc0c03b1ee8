package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketPool;
import java.io.IOException;

/**
 * How a {@link Backend} gets its underlay socket: the backend knows the address and port (its public
 * IP, the configured port), the node decides what kind of transport serves them. A node passes the
 * socket transport of tun-io; tests pass an in-memory one ({@code FakeNetwork::attach}).
 */
@FunctionalInterface
public interface TransportFactory {
    /**
     * Opens a transport bound to {@code bindAddress:port} that receives into buffers of {@code pool}.
     *
     * @param bindAddress local IPv4 address (see {@link io.dataplane.core.wire.Ipv4Address}), 0 for every address
     * @param port local UDP port (0 for a raw IP socket)
     * @throws IOException naming the address and port when it cannot be bound
     */
    Transport open(int bindAddress, int port, PacketPool pool) throws IOException;
}
