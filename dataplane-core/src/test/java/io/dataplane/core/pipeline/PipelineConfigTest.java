package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link PipelineConfig}'s defaults and checks, and the one batch limit. */
class PipelineConfigTest {
    private final PacketPool pool = new PacketPool(16);
    private final FakeTunnelDevice tun = new FakeTunnelDevice("tun-cfg", 1400, 8);
    private final FakeTransport transport = new FakeNetwork().attach(1, 7, pool);
    private final PipelineConfig config = PipelineConfig.of(tun, transport, new PipelineTest.MarkerEncapsulation(), new RouteTable(), pool);

    @AfterEach
    void close() {
        transport.close();
        assertEquals(0, pool.outstanding());
        pool.close();
    }

    private static String refused(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void defaultsAreTheCliDefaultsWithOnePool() {
        assertEquals(Pipeline.TunWriter.RECEIVE_THREAD, config.tunWriter());
        assertEquals(PipelineConfig.DEFAULT_TUN_RING, config.tunRing());
        assertEquals(0, config.busyPollNanos());
        assertSame(pool, config.tunPool());
    }

    @Test
    void everyFieldIsCheckedAndNamed() {
        assertEquals("pipeline part missing: tun=null",
                refused(() -> PipelineConfig.of(null, transport, config.encap(), config.routes(), pool)));
        assertEquals("pipeline part missing: tunPool=null", refused(() -> config.withTunPool(null)));
        assertEquals("pipeline part missing: tunWriter=null", refused(() -> config.withTunWriter(null)));
        assertEquals("ring capacity too small: tunRing=1 (min 2)", refused(() -> config.withTunRing(1)));
        assertEquals("busy-poll time negative: busyPollNanos=-1", refused(() -> config.withBusyPollNanos(-1)));
        try (PacketPool bare = new PacketPool(1, 2048, 2)) {
            assertEquals("pool headroom too small for the encapsulation: headroom=2 (needs 4)", refused(() -> config.withTunPool(bare)));
        }
    }

    @Test
    void readsAreCappedAtTheOneBatchLimit() {
        assertEquals(1, Pipeline.readBatch(0));
        assertEquals(32, Pipeline.readBatch(32));
        assertEquals(Pipeline.MAX_BATCH, Pipeline.readBatch(1024));
    }
}
