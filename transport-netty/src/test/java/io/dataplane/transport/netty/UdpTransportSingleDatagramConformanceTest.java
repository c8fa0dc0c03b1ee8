package io.dataplane.transport.netty;

/**
 * The fallback path, one datagram per system call (recvmsg and sendto, batch size 1), passes the
 * transport conformance test too.
 */
class UdpTransportSingleDatagramConformanceTest extends UdpTransportConformanceTest {
    @Override
    int batchSize() {
        return 1;
    }
}
