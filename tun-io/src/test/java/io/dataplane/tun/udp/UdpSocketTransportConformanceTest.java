package io.dataplane.tun.udp;

import io.dataplane.core.buffer.PacketPool;
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
        try {
            return new OpenPair(a, SocketTransport.udp(UdpTransportConfig.of(loopback, 0).withSendOnCaller(sendOnCaller()), pb),
                    loopback, loopback, pa, pb, null);
        } catch (Exception e) {
            a.close();
            throw e;
        }
    }
}
