package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.TcpSegment;
import io.dataplane.core.wire.Ipv4Address;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A TCP super-packet sealed as a train ({@link TrainSealer}, through the device's encap) against
 * the one-packet path: each message of the train is byte for byte what sealing that segment alone
 * with the same counter gives, the segments cut as the kernel cuts them (expected segments built by
 * {@link TcpSegment} with its own checksums), the counters taken in segment order, and the peer
 * opens every message back into its segment.
 */
class TrainSealerTest {
    private static final int SRC = Ipv4Address.parse("10.244.1.5");
    private static final int DST = Ipv4Address.parse("10.244.2.7");
    private static final int MTU = WireGuardConfig.DEFAULT_MTU;

    private final PacketPool big = new PacketPool(2, 128 + 65536 + 16 * 1024, 128);

    /** The segments the kernel would have sent for {@code superPacket} cut at {@code mss}: sequence, identification and PSH as tcp_gso_segment sets them. */
    private static List<byte[]> expectedSegments(TcpSegment superPacket, int mss) {
        byte[] payload = superPacket.payload();
        int n = (payload.length + mss - 1) / mss;
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            byte[] slice = Arrays.copyOfRange(payload, i * mss, Math.min(payload.length, (i + 1) * mss));
            int flags = i == n - 1 ? superPacket.flags() : superPacket.flags() & ~TcpSegment.PSH;
            out[i] = superPacket.withPayload(slice).withSeq(superPacket.seq() + i * mss)
                    .withIdentification((superPacket.identification() + i) & 0xffff).withFlags(flags).bytes();
        }
        return List.of(out);
    }

    private static TcpSegment superPacket(int payload) {
        return TcpSegment.of(SRC, 40000, DST, 5201, 0x10000000, 77, TcpSegment.timestamps(1, 2), TcpSegment.pattern(7, payload))
                .withIdentification(0xfff0).withFlags(TcpSegment.ACK | TcpSegment.PSH);
    }

    @ParameterizedTest
    @EnumSource(TransportCipher.class)
    void everyMessageOfTheTrainIsWhatTheOnePacketPathSealsWithTheSameCounter(TransportCipher cipher) {
        assumeTrue(cipher.unavailabilityCause() == null, () -> cipher + ": " + cipher.unavailabilityCause());
        for (int[] shape : new int[][] {{1368, 60000}, {1368, 1368 * 5}, {1000, 4321}, {1368, 65483 - 12}}) {
            roundTrip(cipher, shape[0], shape[1]);
        }
    }

    private void roundTrip(TransportCipher cipher, int mss, int payload) {
        try (WireGuardPair pair = new WireGuardPair(cipher, cipher)) {
            pair.handshake();
            Keypair kp = pair.a.peer.current;
            long first = kp.sendCounter();
            TcpSegment sp = superPacket(payload);
            List<byte[]> segments = expectedSegments(sp, mss);
            int n = segments.size();

            PacketBuffer p = big.acquire();
            try {
                p.put(sp.bytes()).setGsoSize(mss);
                assertEquals(Encapsulation.FORWARD, pair.a.device.encap(p, pair.a.peer.id()), "encap of the super-packet");
                assertEquals(first + n, kp.sendCounter(), "one counter per segment");
                byte[] train = p.toByteArray();
                int stride = n > 1 ? p.gsoSize() : train.length;
                assertEquals(n > 1 ? PacketBuffer.TRAIN : 0, p.gsoPrefix());
                assertEquals(pair.b.address, p.peerAddress());
                assertEquals((n - 1) * stride + 32 + TransportCodec.paddedLength(segments.get(n - 1).length, MTU), train.length);
                for (int i = 0; i < n; i++) {
                    byte[] message = Arrays.copyOfRange(train, i * stride, Math.min(train.length, (i + 1) * stride));
                    assertArrayEquals(sealAlone(kp, first + i, segments.get(i)), message,
                            cipher + " mss " + mss + " payload " + payload + ": message " + i + " of " + n);
                    assertEquals(Encapsulation.FORWARD, pair.b.receive(message, pair.a.address, pair.a.port), "B opens message " + i);
                    assertArrayEquals(segments.get(i), pair.b.tun.getLast(), "B's TUN gets segment " + i);
                }
                assertEquals(n, pair.b.tun.size());
            } finally {
                p.release();
            }
        }
    }

    /**
     * The one-packet path: {@code inner} sealed on its own as message {@code counter}, on a thread
     * of its own (the JDK's cipher, one per thread, refuses the key and nonce it was last given).
     */
    private byte[] sealAlone(Keypair kp, long counter, byte[] inner) {
        byte[][] out = new byte[1][];
        Thread t = Thread.ofPlatform().start(() -> {
            PacketBuffer q = big.acquire();
            try {
                q.put(inner);
                TransportCodec.seal(kp, counter, q, MTU);
                out[0] = q.toByteArray();
            } finally {
                q.release();
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return out[0];
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void aSuperPacketThatCannotBeCutOrDoesNotFitIsDroppedWithItsReason(int kind) {
        try (WireGuardPair pair = new WireGuardPair()) {
            pair.handshake();
            long before = pair.a.peer.current.sendCounter();
            PacketBuffer p = big.acquire();
            try {
                if (kind == 0) {
                    byte[] notTcp = Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 3000, 1);
                    p.put(notTcp).setGsoSize(1000);
                    assertEquals(DropReason.BAD_SUPER_PACKET.ordinal(), pair.a.device.encap(p, pair.a.peer.id()));
                } else {
                    // 50-byte segments: more messages than the buffer's room holds.
                    p.put(superPacket(60000).bytes()).setGsoSize(50);
                    assertEquals(DropReason.NO_ROOM.ordinal(), pair.a.device.encap(p, pair.a.peer.id()));
                }
            } finally {
                p.release();
            }
            assertEquals(before, pair.a.peer.current.sendCounter(), "no counter taken for a dropped super-packet");
        }
    }
}
