package io.dataplane.tun.raw;

/** The raw IP transports of {@link RawIpSocketTransportConformanceTest}, sending on the caller's thread. */
class RawIpSocketTransportSendOnCallerConformanceTest extends RawIpSocketTransportConformanceTest {
    @Override
    boolean sendOnCaller() {
        return true;
    }
}
