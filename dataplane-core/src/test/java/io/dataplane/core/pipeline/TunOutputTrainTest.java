package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.testing.TcpSegment;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TunOutput.Direct} with trains: a train that ends with a TCP segment its flow may go on
 * after is held, and the next train goes into the same write behind it (the two halves of a
 * sender's super-packet that one UDP GSO message could not carry); a train that ends a run is
 * written at once; a held train is written by flush and before anything added after it, and its
 * buffers come back either way.
 */
class TunOutputTrainTest {
    private static final int GAP = 22; // stand-in tunnel header in front of every packet of a train

    private final PacketPool pool = new PacketPool(8, 16384, 128);
    private final Recording tun = new Recording();
    private final Counters counters = new Counters();
    private final TunOutput.Direct out = new TunOutput.Direct(tun, new Object(), counters, new PathState("rec"));
    private int seq = 1000;

    @AfterEach
    void close() {
        assertEquals(0, pool.outstanding(), "buffers still out");
        pool.close();
    }

    /** One write the device was given: its packets' bytes and the buffers they were in. */
    record Write(List<byte[]> packets, int buffers) {}

    /** A TUN that records each write and each train write. */
    static final class Recording implements TunnelDevice {
        final List<Write> writes = new ArrayList<>();

        @Override
        public String name() {
            return "rec";
        }

        @Override
        public int mtu() {
            return 1500;
        }

        @Override
        public int batchSize() {
            return 64;
        }

        @Override
        public int read(PacketBuffer[] packets, int count) {
            return 0;
        }

        @Override
        public int write(PacketBuffer[] packets, int count) {
            for (int i = 0; i < count; i++) writes.add(new Write(List.of(packets[i].toByteArray()), 1));
            return count;
        }

        @Override
        public int writeTrain(PacketTrain train) {
            List<byte[]> packets = new ArrayList<>();
            for (int i = 0; i < train.count(); i++) packets.add(train.select(i).toByteArray());
            writes.add(new Write(packets, train.bufferCount()));
            return train.count();
        }

        @Override
        public void close() {}
    }

    private byte[] segment(int flags, int payload) {
        byte[] s = TcpSegment.of(0x0af40101, 40000, 0x0af40201, 5201, seq, 1, new byte[0], TcpSegment.pattern(seq, payload))
                .withFlags(flags).bytes();
        seq += payload;
        return s;
    }

    /** A train in a buffer of its own holding {@code packets}, each behind {@link #GAP} bytes. */
    private PacketTrain train(PacketTrain into, byte[]... packets) {
        PacketBuffer b = pool.acquire();
        into.reset(b);
        int at = b.offset();
        MemorySegment s = b.segment();
        for (byte[] p : packets) {
            at += GAP;
            MemorySegment.copy(p, 0, s, ValueLayout.JAVA_BYTE, at, p.length);
            assertTrue(into.add(at, p.length));
            at += p.length;
        }
        return into;
    }

    @Test
    void aTrainThatEndsMidRunIsHeldAndTheNextGoesIntoTheSameWrite() {
        PacketTrain t = new PacketTrain();
        byte[] s0 = segment(TcpSegment.ACK, 1000);
        byte[] s1 = segment(TcpSegment.ACK, 1000);
        byte[] s2 = segment(TcpSegment.ACK, 1000);
        byte[] s3 = segment(TcpSegment.ACK | TcpSegment.PSH, 400);
        out.add(train(t, s0, s1, s2));
        t.clear();
        assertEquals(0, tun.writes.size(), "a train whose run may go on is held");
        assertTrue(out.holdsOpenRun());
        out.add(train(t, s3));
        t.clear();
        assertEquals(1, tun.writes.size(), "both trains in one write");
        Write w = tun.writes.get(0);
        assertEquals(2, w.buffers());
        assertEquals(4, w.packets().size());
        assertArrayEquals(s0, w.packets().get(0));
        assertArrayEquals(s3, w.packets().get(3));
        assertFalse(out.holdsOpenRun());
        assertEquals(4, counters.ingressPackets());
    }

    @Test
    void aTrainThatEndsItsRunIsWrittenAtOnce() {
        PacketTrain t = new PacketTrain();
        out.add(train(t, segment(TcpSegment.ACK, 1000), segment(TcpSegment.ACK | TcpSegment.PSH, 1000)));
        t.clear();
        assertEquals(1, tun.writes.size());
        assertEquals(1, tun.writes.get(0).buffers());
        assertFalse(out.holdsOpenRun());
    }

    @Test
    void aHeldTrainIsWrittenByFlushAndBeforeAPacketAddedAfterIt() {
        PacketTrain t = new PacketTrain();
        byte[] s0 = segment(TcpSegment.ACK, 1000);
        out.add(train(t, s0));
        t.clear();
        out.flush();
        assertEquals(1, tun.writes.size(), "flush writes the held train");
        assertArrayEquals(s0, tun.writes.get(0).packets().get(0));

        byte[] s1 = segment(TcpSegment.ACK, 1000);
        out.add(train(t, s1));
        t.clear();
        byte[] lone = segment(TcpSegment.ACK | TcpSegment.PSH, 10);
        out.add(pool.acquire().put(lone));
        assertEquals(2, tun.writes.size(), "the held train goes before the packet after it");
        assertArrayEquals(s1, tun.writes.get(1).packets().get(0));
        out.flush();
        assertEquals(3, tun.writes.size());
        assertArrayEquals(lone, tun.writes.get(2).packets().get(0));
    }

    @Test
    void aThirdTrainIsNotJoinedToTwo() {
        PacketTrain t = new PacketTrain();
        out.add(train(t, segment(TcpSegment.ACK, 1000)));
        t.clear();
        out.add(train(t, segment(TcpSegment.ACK, 1000)));
        t.clear();
        assertEquals(1, tun.writes.size(), "two trains joined and written");
        out.add(train(t, segment(TcpSegment.ACK, 1000)));
        t.clear();
        assertEquals(1, tun.writes.size(), "the third, ending mid-run, is held on its own");
        out.flush();
        assertEquals(2, tun.writes.size());
        assertEquals(1, tun.writes.get(1).buffers());
    }

    @Test
    void theRingOutputFlushesTheTrainItsDirectHolds() {
        PacketRing ring = new PacketRing(8, false);
        TunOutput.Ring viaRing = new TunOutput.Ring(ring, counters, out);
        PacketTrain t = new PacketTrain();
        viaRing.add(train(t, segment(TcpSegment.ACK, 1000)));
        t.clear();
        assertTrue(viaRing.holdsOpenRun());
        assertEquals(0, tun.writes.size());
        viaRing.flush();
        assertEquals(1, tun.writes.size());
        assertFalse(viaRing.holdsOpenRun());
    }
}
