package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.wire.Ipv4Prefix;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    @Test
    void packetsFromTheNetworkStillGoInWhileAnotherStageHoldsEveryBufferOfTheTunPool() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        a.routes().add(Ipv4Prefix.parse("10.244.2.0/24"), UNDERLAY_B);
        List<PacketBuffer> held = new ArrayList<>();
        MarkerEncapsulation holding = new MarkerEncapsulation() { // as WireGuard stages packets for a handshake
            @Override
            public int encap(PacketBuffer p, int nextHop) {
                synchronized (held) {
                    held.add(p);
                }
                return CONSUMED;
            }
        };
        try (PacketPool pool = new PacketPool(64); PacketPool tunPool = new PacketPool(20)) {
            FakeTunnelDevice tun = new FakeTunnelDevice("tun-b", 1400, 16);
            FakeTransport transport = network.attach(UNDERLAY_B, PORT, pool);
            RouteTable routes = new RouteTable();
            routes.add(Ipv4Prefix.parse("10.244.1.0/24"), UNDERLAY_A);
            Pipeline b = start(PipelineConfig.of(tun, transport, holding, routes, pool).withTunPool(tunPool));
            try {
                for (int i = 0; i < tunPool.capacity(); i++) tun.inject(udpPacket(POD_B, POD_A, 100));
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (tunPool.outstanding() < tunPool.capacity() || heldCount(held) < tunPool.capacity()) {
                    if (System.nanoTime() > deadline) throw new AssertionError("the TUN pool never ran dry: " + tunPool.outstanding() + " out");
                    Thread.sleep(5);
                }
                byte[] packet = udpPacket(POD_A, POD_B, 500);
                for (int i = 0; i < 10; i++) a.tun().inject(packet);
                for (int i = 0; i < 10; i++) {
                    byte[] got = tun.awaitWritten(Duration.ofSeconds(5));
                    assertNotNull(got, "packet " + i + " from the network did not reach the TUN while its pool was dry");
                    assertArrayEquals(packet, got);
                }
            } finally {
                b.close();
                synchronized (held) {
                    held.forEach(PacketBuffer::release);
                }
            }
            assertEquals(0, pool.outstanding());
            assertEquals(0, tunPool.outstanding());
        }
    }

    private static int heldCount(List<PacketBuffer> held) {
        synchronized (held) {
            return held.size();
        }
    }
}
