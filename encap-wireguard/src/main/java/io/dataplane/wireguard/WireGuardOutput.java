package io.dataplane.wireguard;

import io.dataplane.core.buffer.PacketBuffer;

/**
 * Where a {@link WireGuardDevice} sends the datagrams it makes by itself (handshake initiations,
 * keepalives, packets that waited for a handshake): the transport's send side.
 *
 * <p>Called from any of the device's threads (the TUN reader in encap, the receiver in decap, the
 * timer thread in tick), so it must be thread-safe, like {@link io.dataplane.core.spi.Transport#send}.
 * It takes ownership of the buffer, whose peer endpoint is set, and must release it once sent or
 * dropped.
 */
@FunctionalInterface
public interface WireGuardOutput {
    /** Sends (or drops and releases) {@code packet}. */
    void send(PacketBuffer packet);
}
