package io.dataplane.core.spi;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * A backend as a plug-in: what a node needs to know about it before it opens one, and how to open
 * it. Each backend module registers its provider in {@code
 * META-INF/services/io.dataplane.core.spi.BackendProvider} (flannel's {@code backend.Register} in
 * each backend package's {@code init}); a node finds them with {@link #installed()} and runs the one
 * net-conf.json's {@code Backend.Type} names.
 */
public interface BackendProvider {

    /** The backend type it runs, as net-conf.json's {@code Backend.Type} and the leases name it. */
    BackendType type();

    /** flannel's name of the backend's device under {@code conf} ({@code flannel.1} for vxlan's VNI 1). */
    String tunName(BackendConf conf);

    /** Bytes the tunnel adds on the wire, outer headers included: the TUN's MTU is the underlay's minus this. */
    default int overhead() {
        return type().overhead();
    }

    /**
     * True when the encapsulation takes TCP super-packets from the TUN (TSO) and puts the same
     * headers on every segment, so that the socket can cut them again (UDP GSO).
     */
    boolean superPackets();

    /**
     * False for a backend without a packet path (host-gw: kernel routes only), for which a node
     * creates no TUN, pool or pipeline and passes a context without a pool.
     */
    default boolean packetPath() {
        return true;
    }

    /**
     * Opens the backend for the node {@code context} describes, its underlay socket from {@code
     * sockets}.
     *
     * @throws ConfigException when {@code context}'s configuration asks for what this backend does not do
     * @throws IllegalArgumentException naming the value when the context does not fit (pool too small)
     * @throws IOException when a socket or file cannot be opened
     */
    Backend open(BackendContext context, BackendSetup sockets) throws IOException;

    /** The providers on the class path, in {@link BackendType} order. */
    static List<BackendProvider> installed() {
        List<BackendProvider> all = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(all::add);
        all.sort(Comparator.comparing(BackendProvider::type));
        return List.copyOf(all);
    }

    /**
     * The provider of {@code type} on the class path.
     *
     * @throws ConfigException naming the type and the installed ones when there is none
     */
    static BackendProvider of(BackendType type) {
        List<BackendProvider> all = installed();
        for (BackendProvider p : all) {
            if (p.type() == type) return p;
        }
        throw new ConfigException(null, "Backend.Type", "no backend module for " + type + " on the class path (installed: "
                + String.join(", ", all.stream().map(p -> p.type().flannelName()).toList()) + ")");
    }
}
