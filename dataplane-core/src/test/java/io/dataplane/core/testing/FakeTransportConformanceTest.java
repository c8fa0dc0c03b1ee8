package io.dataplane.core.testing;

import io.dataplane.core.buffer.PacketPool;

/** The fake transport passes the transport conformance test, so backend tests can rely on it. */
class FakeTransportConformanceTest extends TransportConformanceTest {
    @Override
    protected Pair createPair() {
        FakeNetwork net = new FakeNetwork();
        PacketPool pa = new PacketPool(256);
        PacketPool pb = new PacketPool(256);
        int addrA = 0xC0000201;
        int addrB = 0xC0000202;
        FakeTransport a = net.attach(addrA, 8472, pa);
        FakeTransport b = net.attach(addrB, 8472, pb);
        return new OpenPair(a, b, addrA, addrB, pa, pb, null);
    }
}
