package io.dataplane.core.plain;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.BackendConformanceTest;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.TestPackets;
import java.io.IOException;
import java.util.Map;

/**
 * The test-only "plain" backend against the backend conformance suite, reached the way a node
 * reaches any backend: its configuration read from net-conf.json text, its type and provider
 * found by name on the class path, its backend opened by the provider with the sockets a node hands
 * over. Without sockets of its own, its "own sockets" are a second in-memory network.
 */
class PlainBackendConformanceTest extends BackendConformanceTest {
    static final int MTU = 1472;
    private final FakeNetwork ownSockets = new FakeNetwork();

    @Override
    protected BackendConf conf(int port) {
        return NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"plain\"" + (port == 0 ? "" : ", \"Port\": " + port)
                + "}}").backend();
    }

    @Override
    protected int tunMtu() {
        return MTU;
    }

    @Override
    protected Backend open(BackendContext context, TransportFactory transports) throws IOException {
        BackendProvider provider = BackendProvider.of(BackendType.of(context.netConf().backend().type().flannelName()));
        TransportFactory udp = transports != null ? transports : ownSockets::attach;
        return provider.open(context, new BackendSetup(udp, protocol -> (address, port, pool) -> {
            throw new IOException("no raw IP sockets here: protocol " + protocol);
        }, Map.of()));
    }

    /** The inner packet is the datagram. */
    @Override
    protected byte[] datagram(int from, int to, byte[] inner) {
        return inner;
    }

    @Override
    protected Map<DropReason, byte[]> badDatagrams() {
        return TestPackets.malformed(pod(1, 5), pod(2, 7), MTU);
    }
}
