package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import org.junit.jupiter.api.Test;

/**
 * {@link PipelineTest} with {@link Pipeline.TunWriter#SINGLE_THREAD}: one thread per node polls the
 * fake device and the fake transport ({@code FakePoller}), without busy polling;
 * {@link PipelineSingleThreadBusyPollTest} runs it with.
 */
class PipelineSingleThreadTest extends PipelineTest {
    @Override
    Pipeline.TunWriter tunWriter() {
        return Pipeline.TunWriter.SINGLE_THREAD;
    }

    @Test
    void refusesADeviceThatCannotBePolled() throws Exception {
        try (PacketPool pool = new PacketPool(16)) {
            FakeTunnelDevice fake = new FakeTunnelDevice("tun-np", 1400, 8);
            TunnelDevice plain = new TunnelDevice() { // the SPI without the pollable part
                @Override public String name() { return fake.name(); }
                @Override public int mtu() { return fake.mtu(); }
                @Override public int batchSize() { return fake.batchSize(); }
                @Override public int read(PacketBuffer[] packets, int count) { return fake.read(packets, count); }
                @Override public int write(PacketBuffer[] packets, int count) { return fake.write(packets, count); }
                @Override public void close() { fake.close(); }
                @Override public String toString() { return "PlainDevice"; }
            };
            FakeTransport transport = new FakeNetwork().attach(1, 7, pool);
            PipelineConfig config = PipelineConfig.of(plain, transport, new MarkerEncapsulation(), new RouteTable(), pool);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> config.withTunWriter(Pipeline.TunWriter.SINGLE_THREAD));
            assertEquals("SINGLE_THREAD needs a pollable device and transport: tun=PlainDevice (not a PollableTunnelDevice), transport="
                    + transport, e.getMessage());
            transport.close();
            assertEquals(0, pool.outstanding());
        }
    }
}
