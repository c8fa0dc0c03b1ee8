package io.dataplane.core.spi;

import java.util.Map;
import java.util.function.IntFunction;

/**
 * What a node hands a {@link BackendProvider} besides the {@link BackendContext}: how to open
 * underlay sockets, and the node's own choices for one backend or another.
 *
 * @param udp opens a UDP socket on an address and port
 * @param rawIp opens, for an IP protocol number, a raw IP socket that takes that protocol's datagrams
 * @param options the node's choices by name, each for the backends that know it ({@code vtepMac} for
 *     vxlan, {@code wireguardCipher} for wireguard); others ignore what they do not know
 */
public record BackendSetup(TransportFactory udp, IntFunction<TransportFactory> rawIp, Map<String, String> options) {

    /** Checks that nothing is missing; copies the options. */
    public BackendSetup {
        if (udp == null) throw new IllegalArgumentException("backend setup: udp socket factory missing");
        if (rawIp == null) throw new IllegalArgumentException("backend setup: raw IP socket factory missing");
        options = Map.copyOf(options == null ? Map.of() : options);
    }

    /** The option {@code name}, or null when the node made no choice. */
    public String option(String name) {
        return options.get(name);
    }
}
