package io.dataplane.core.testing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory underlay: {@link FakeTransport}s attached to it exchange datagrams by IPv4 address
 * and port, copying each one into a buffer of the receiver's pool as a real network would.
 */
public final class FakeNetwork {
    private final Map<Long, FakeTransport> endpoints = new ConcurrentHashMap<>();

    static long key(int address, int port) {
        return ((long) address << 16) | (port & 0xffff);
    }

    /** Attaches a transport at {@code address:port}; it delivers into buffers of {@code pool}. */
    public FakeTransport attach(int address, int port, io.dataplane.core.buffer.PacketPool pool) {
        FakeTransport t = new FakeTransport(this, address, port, pool);
        if (endpoints.putIfAbsent(key(address, port), t) != null) {
            throw new IllegalStateException("endpoint already attached: " + Integer.toHexString(address) + ":" + port);
        }
        return t;
    }

    FakeTransport lookup(int address, int port) {
        return endpoints.get(key(address, port));
    }

    void detach(FakeTransport t) {
        endpoints.remove(key(t.address(), t.localPort()), t);
    }
}
