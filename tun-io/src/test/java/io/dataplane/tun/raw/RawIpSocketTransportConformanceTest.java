package io.dataplane.tun.raw;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.testing.TransportConformanceTest;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.testing.Hosts;

/**
 * Two socket transports over raw IP for protocol 4 in payload mode (the kernel writes and strips the outer
 * header) pass the transport conformance test: bound to 127.0.0.1 and 127.0.0.2 of the loopback of
 * a namespace of the test's own, so no other protocol-4 traffic on the machine reaches them.
 */
class RawIpSocketTransportConformanceTest extends TransportConformanceTest {
    static final int A = Ipv4Address.parse("127.0.0.1");
    static final int B = Ipv4Address.parse("127.0.0.2");

    /** Whether both transports send on the caller's thread instead of through their ring. */
    boolean sendOnCaller() {
        return false;
    }

    @Override
    protected Pair createPair() throws Exception {
        Hosts.assumeRoot();
        Hosts hosts = new Hosts();
        // a's pool holds a whole burst of the conformance test (200 datagrams) waiting in a's send
        // ring, should a's sender thread get no CPU meanwhile (a loaded machine), beside the batch of
        // 64 buffers a's receive thread keeps armed.
        PacketPool pa = new PacketPool(512);
        PacketPool pb = new PacketPool(256);
        SocketTransport a = null;
        try {
            NetNamespace ns = hosts.namespace("dprawc");
            a = ns.call(() -> SocketTransport.rawIp(RawIpTransportConfig.payloads(Ipv4Header.PROTO_IPIP, A).withSendOnCaller(sendOnCaller()), pa));
            SocketTransport b = ns.call(() -> SocketTransport.rawIp(RawIpTransportConfig.payloads(Ipv4Header.PROTO_IPIP, B).withBatchSize(16)
                    .withSendOnCaller(sendOnCaller()), pb));
            return new OpenPair(a, b, A, B, pa, pb, hosts);
        } catch (Exception | Error e) {
            if (a != null) a.close();
            pa.close();
            pb.close();
            hosts.close();
            throw e;
        }
    }
}
