package io.dataplane.transport.netty;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.testing.TransportConformanceTest;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.udp.UdpTransportConfig;

/** Two Netty epoll UDP transports on 127.0.0.1 with recvmmsg/sendmmsg batches pass the transport conformance test. */
class UdpTransportConformanceTest extends TransportConformanceTest {
    static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");

    /** Datagrams per system call for both transports. */
    int batchSize() {
        return UdpTransportConfig.DEFAULT_BATCH_SIZE;
    }

    @Override
    protected Pair createPair() throws Exception {
        Prerequisites.require(UdpTransport.isAvailable(), "Netty epoll unavailable: " + UdpTransport.unavailabilityCause());
        PacketPool pa = new PacketPool(512);
        PacketPool pb = new PacketPool(512);
        UdpTransport a = UdpTransport.open(UdpTransportConfig.of(LOOPBACK, 0).withBatchSize(batchSize()), pa);
        try {
            return new OpenPair(a, UdpTransport.open(UdpTransportConfig.of(LOOPBACK, 0).withBatchSize(batchSize()), pb),
                    LOOPBACK, LOOPBACK, pa, pb, null);
        } catch (Exception e) {
            a.close();
            throw e;
        }
    }
}
