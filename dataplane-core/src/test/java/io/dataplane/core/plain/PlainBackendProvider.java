package io.dataplane.core.plain;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.BackendProvider;
import java.nio.file.Path;
import java.util.Map;

/**
 * A backend that no file of this project names: its type, its Backend fields and its lease data
 * come from here, and its only registration is {@code
 * src/test/plugin/META-INF/services/io.dataplane.core.spi.BackendProvider}, on core's own test
 * class path only (not in its test-jar). It shows what a new backend needs: its own classes and
 * one registration.
 */
public final class PlainBackendProvider extends BackendProvider {
    /** "plain": the inner packet as a UDP payload, 28 bytes of outer IPv4 and UDP; reads Port (default 8999) and MTU. */
    public static final BackendType PLAIN = BackendType.define("plain", 28, Map.of("Port", 8999, "MTU", 0));

    /** Called by {@link java.util.ServiceLoader}. */
    public PlainBackendProvider() {
        super(PLAIN, conf -> "plain" + conf.port(), false, true, (context, setup) -> PlainBackend.open(context, setup.udp()));
    }

    /** {@code {"Port": N}}: the port this node listens on. */
    @Override
    public String leaseData(NetConf net, int publicIp, Path stateDir) {
        return PlainBackend.leaseData(net.backend().port());
    }
}
