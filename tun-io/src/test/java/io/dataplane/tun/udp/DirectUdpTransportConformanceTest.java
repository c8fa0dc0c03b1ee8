package io.dataplane.tun.udp;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.testing.TransportConformanceTest;

/** Two direct (FFM, no event loop) UDP transports on 127.0.0.1 pass the transport conformance test. */
class DirectUdpTransportConformanceTest extends TransportConformanceTest {
    @Override
    protected Pair createPair() throws Exception {
        int loopback = UdpTransportConformanceTest.LOOPBACK;
        PacketPool pa = new PacketPool(512);
        PacketPool pb = new PacketPool(512);
        DirectUdpTransport a = DirectUdpTransport.open(UdpTransportConfig.of(loopback, 0), pa);
        DirectUdpTransport b;
        try {
            b = DirectUdpTransport.open(UdpTransportConfig.of(loopback, 0), pb);
        } catch (Exception e) {
            a.close();
            throw e;
        }
        return new Pair() {
            public Transport a() { return a; }
            public Transport b() { return b; }
            public int addressOfA() { return loopback; }
            public int addressOfB() { return loopback; }
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
