package io.dataplane.tun;

import io.dataplane.core.testing.Prerequisites;
import java.util.Set;

/**
 * The TUN device with its reads and writes batched through io_uring, behind the virtio_net_hdr,
 * passes the conformance test. Skips where the kernel refuses io_uring (the device then takes the
 * plain path, which {@link TunDeviceConformanceTest} covers).
 */
class TunDeviceIoUringConformanceTest extends TunDeviceConformanceTest {
    @Override
    protected TunOptions options() {
        return super.options().withVnetHeader(Set.of()).withIoUring(true);
    }

    @Override
    protected Harness createHarness() throws Exception {
        Harness h = super.createHarness();
        if (!((TunDevice) h.device()).ioUring()) {
            h.close();
            Prerequisites.require(false, "this kernel refuses io_uring (kernel.io_uring_disabled, seccomp, or a kernel before 5.6)");
        }
        return h;
    }
}
