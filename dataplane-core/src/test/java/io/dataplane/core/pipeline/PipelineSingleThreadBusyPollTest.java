package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Repr;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link PipelineTest} with {@link Pipeline.TunWriter#SINGLE_THREAD} and busy polling for 200 us
 * after the last packet; and the spin itself: none while idle, spinning after a packet, asleep
 * again once the window has passed without one.
 */
class PipelineSingleThreadBusyPollTest extends PipelineTest {
    private static final long WINDOW_NANOS = Duration.ofSeconds(3).toNanos();

    @Override
    Pipeline.TunWriter tunWriter() {
        return Pipeline.TunWriter.SINGLE_THREAD;
    }

    @Override
    long busyPollNanos() {
        return 200_000;
    }

    @Test
    void spinsAfterAPacketUntilAQuietWindowPassedAndNeverWhileIdle() throws Exception {
        try (PacketPool pool = new PacketPool(64)) {
            FakeTunnelDevice tun = new FakeTunnelDevice("tun-spin", 1400, 8);
            FakeTransport transport = new FakeNetwork().attach(Ipv4Address.parse("192.0.2.1"), 7777, pool);
            Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, transport, new MarkerEncapsulation(), new RouteTable(), pool)
                    .withTunWriter(Pipeline.TunWriter.SINGLE_THREAD).withBusyPollNanos(WINDOW_NANOS));
            try {
                Thread path = thread("dp-path-tun-spin");
                awaitState(path, Thread.State.WAITING, "no packet yet: the thread sleeps in the poller at once");

                // No route: the test encapsulation sends the packet back into the TUN, which moves it.
                byte[] packet = new byte[Ipv4Header.HEADER_LEN + 8];
                Ipv4Repr.of(Ipv4Address.parse("10.244.1.5"), Ipv4Address.parse("10.99.0.1"), Ipv4Header.PROTO_UDP, 64, 8)
                        .emit(new Ipv4Header().wrap(MemorySegment.ofArray(packet), 0));
                tun.inject(packet);
                assertNotNull(tun.awaitWritten(Duration.ofSeconds(5)), "the packet came back");

                ThreadMXBean mx = ManagementFactory.getThreadMXBean();
                long cpuBefore = mx.getThreadCpuTime(path.threadId());
                for (int i = 0; i < 20; i++) { // 100 ms of a 3 s window
                    assertNotEquals(Thread.State.WAITING, path.getState(), "within the window the thread keeps looking");
                    Thread.sleep(5);
                }
                assertTrue(mx.getThreadCpuTime(path.threadId()) > cpuBefore, "a spinning thread uses CPU");

                awaitState(path, Thread.State.WAITING, "after a quiet window the thread sleeps again");
                assertEquals(0, Counters.Snapshot.of(pipeline.counters()).droppedTotal(), "nothing dropped");
            } finally {
                pipeline.close();
            }
            assertEquals(0, pool.outstanding());
        }
    }

    private static Thread thread(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + name));
    }

    private static void awaitState(Thread t, Thread.State state, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WINDOW_NANOS + Duration.ofSeconds(10).toNanos();
        while (t.getState() != state) {
            if (System.nanoTime() > deadline) throw new AssertionError(what + ": state " + t.getState());
            Thread.sleep(5);
        }
    }
}
