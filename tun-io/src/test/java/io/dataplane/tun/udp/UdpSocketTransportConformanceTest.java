package io.dataplane.tun.udp;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.testing.TransportConformanceTest;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.socket.SocketTransport;

/** Two socket transports over UDP on 127.0.0.1, sending on the caller (the default), pass the transport conformance test. */
class UdpSocketTransportConformanceTest extends TransportConformanceTest {
    /** Whether both transports send on the caller's thread instead of through their ring and sender thread. */
    boolean sendOnCaller() {
        return true;
    }

    @Override
    protected Pair createPair() throws Exception {
        int loopback = Ipv4Address.parse("127.0.0.1");
        PacketPool pa = new PacketPool(512);
        PacketPool pb = new PacketPool(512);
        SocketTransport a = SocketTransport.udp(UdpTransportConfig.of(loopback, 0).withSendOnCaller(sendOnCaller()), pa);
        SocketTransport b;
        try {
            b = SocketTransport.udp(UdpTransportConfig.of(loopback, 0).withSendOnCaller(sendOnCaller()), pb);
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
