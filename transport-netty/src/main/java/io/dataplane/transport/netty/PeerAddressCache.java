package io.dataplane.transport.netty;

import io.dataplane.core.wire.Ipv4Address;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Underlay endpoints as the {@link InetSocketAddress}es Netty's send path wants, one object per
 * endpoint: a datagram to a known peer allocates no address. Peers are few (one per node of the
 * overlay), so an open-addressing table that is wiped when it fills up is plenty; a wipe only costs
 * one allocation per peer afterwards. Event loop only.
 */
final class PeerAddressCache {
    private static final int SLOTS = 1024;
    private static final int MAX_ENTRIES = SLOTS / 2;
    private static final long EMPTY = -1;
    /**
     * Whether {@link Inet4Address#hashCode()} is the address as an int, as OpenJDK has always made it;
     * probed once rather than assumed, because the contract does not promise it.
     */
    private static final boolean HASH_IS_ADDRESS = probeHashIsAddress();

    private final long[] keys = new long[SLOTS];
    private final InetSocketAddress[] values = new InetSocketAddress[SLOTS];
    private int entries;

    PeerAddressCache() {
        java.util.Arrays.fill(keys, EMPTY);
    }

    /** The socket address of {@code address:port} (address as an int in network order of bits). */
    InetSocketAddress get(int address, int port) {
        long key = (address & 0xffffffffL) << 16 | (port & 0xffff);
        int slot = mix(key);
        while (true) {
            long k = keys[slot];
            if (k == key) return values[slot];
            if (k == EMPTY) break;
            slot = (slot + 1) & (SLOTS - 1);
        }
        if (entries == MAX_ENTRIES) {
            java.util.Arrays.fill(keys, EMPTY);
            java.util.Arrays.fill(values, null);
            entries = 0;
            slot = mix(key);
        }
        InetSocketAddress a = new InetSocketAddress(Ipv4Address.toInetAddress(address), port);
        keys[slot] = key;
        values[slot] = a;
        entries++;
        return a;
    }

    /** Number of endpoints cached. */
    int size() {
        return entries;
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & (SLOTS - 1);
    }

    /**
     * The IPv4 address of a datagram's sender as an int, without the byte[] that
     * {@link InetAddress#getAddress()} allocates. Netty builds the sender of every received datagram
     * as an {@link Inet4Address} (the channel is AF_INET).
     */
    static int addressOf(InetSocketAddress sender) {
        InetAddress a = sender.getAddress();
        if (HASH_IS_ADDRESS) return a.hashCode();
        return Ipv4Address.of((Inet4Address) a);
    }

    private static boolean probeHashIsAddress() {
        int[] samples = {0xC0000201, 0x7F000001, 0x0AF40101, 0xFFFFFFFF, 0x00000000, 0x80000000};
        for (int s : samples) {
            if (Ipv4Address.toInetAddress(s).hashCode() != s) return false;
        }
        return true;
    }
}
