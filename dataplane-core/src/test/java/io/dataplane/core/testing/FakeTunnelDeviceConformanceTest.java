package io.dataplane.core.testing;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.UdpHeader;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Arrays;

/** The fake TUN passes the tunnel device conformance test, so pipeline tests can rely on it. */
class FakeTunnelDeviceConformanceTest extends TunnelDeviceConformanceTest {
    @Override
    protected Harness createHarness() {
        FakeTunnelDevice device = new FakeTunnelDevice("fake0", 1450, 32);
        PacketPool pool = new PacketPool(64);
        int pod = Ipv4Address.parse("10.244.1.2");
        int remote = Ipv4Address.parse("10.244.2.3");
        return new Harness() {
            public TunnelDevice device() { return device; }
            public PacketPool pool() { return pool; }
            public int podAddress() { return pod; }
            public int remoteAddress() { return remote; }

            public void podSend(int srcPort, int dstPort, byte[] payload) {
                var b = pool.acquire();
                try {
                    udpPacket(b, pod, remote, srcPort, dstPort, payload);
                    device.inject(b.toByteArray());
                } finally {
                    b.release();
                }
            }

            public byte[] podReceive(int port, Duration timeout) throws InterruptedException {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (System.nanoTime() < deadline) {
                    byte[] p = device.awaitWritten(Duration.ofNanos(deadline - System.nanoTime()));
                    if (p == null) return null;
                    MemorySegment s = MemorySegment.ofArray(p);
                    Ipv4Header ip = new Ipv4Header().wrap(s, 0);
                    if (ip.validate(p.length) != Ipv4Header.VALID || ip.protocol() != Ipv4Header.PROTO_UDP || ip.dstAddr() != pod) continue;
                    UdpHeader udp = new UdpHeader().wrap(s, ip.payloadOffset());
                    if (udp.validate(ip.payloadLength()) != UdpHeader.VALID || udp.dstPort() != port) continue;
                    return Arrays.copyOfRange(p, (int) udp.payloadOffset(), ip.totalLength());
                }
                return null;
            }

            public void close() {
                pool.close();
            }
        };
    }
}
