package io.dataplane.wireguard;

import io.dataplane.core.wire.Ipv4Prefix;

/**
 * Cryptokey routing's table: IPv4 prefixes to the id of the peer that owns them, by longest-prefix
 * match. On send it picks the peer for a destination; on receive it checks that an inner source
 * belongs to the peer whose keys decrypted the packet.
 *
 * <p>The shape of the core's {@code RouteTable} (same methods, peer id as value), so the table the
 * pipeline routes with can be the one the device checks sources against. Lookups must be lock-free
 * and allocation-free from any thread while the control plane adds and removes.
 */
public interface AllowedIps {
    /** Returned by {@link #lookup} when no prefix matches. */
    int NONE = -1;

    /** The peer id of the longest prefix containing {@code address}, or {@link #NONE}. */
    int lookup(int address);

    /** Maps {@code prefix} to {@code peerId}, replacing any previous owner (as {@code wg set} moves an allowed IP). */
    void add(Ipv4Prefix prefix, int peerId);

    /** Removes {@code prefix}. */
    void remove(Ipv4Prefix prefix);
}
