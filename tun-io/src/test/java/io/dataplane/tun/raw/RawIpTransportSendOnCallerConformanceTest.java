package io.dataplane.tun.raw;

/** The raw IP transports of {@link RawIpTransportConformanceTest}, sending on the caller's thread. */
class RawIpTransportSendOnCallerConformanceTest extends RawIpTransportConformanceTest {
    @Override
    boolean sendOnCaller() {
        return true;
    }
}
