package io.dataplane.tun.udp;


import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.testing.TransportConformanceTest;
import io.dataplane.core.wire.Ipv4Address;

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
        UdpTransport b;
        try {
            b = UdpTransport.open(UdpTransportConfig.of(LOOPBACK, 0).withBatchSize(batchSize()), pb);
        } catch (Exception e) {
            a.close();
            throw e;
        }
        return new Pair() {
            public Transport a() { return a; }
            public Transport b() { return b; }
            public int addressOfA() { return LOOPBACK; }
            public int addressOfB() { return LOOPBACK; }
            public PacketPool poolA() { return pa; }
            public PacketPool poolB() { return pb; }
            public void close() {
                a.close();
                b.close();
                pa.close();
                pb.close();
            }
        };
    }
}
