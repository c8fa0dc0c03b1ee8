package io.dataplane.tun.udp;

/** The UDP socket transports of {@link UdpSocketTransportConformanceTest}, sending through their ring and sender thread. */
class UdpSocketTransportSenderThreadConformanceTest extends UdpSocketTransportConformanceTest {
    @Override
    boolean sendOnCaller() {
        return false;
    }
}
