package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.UnaryOperator;

/**
 * Two of our devices joined by an in-memory wire, driven by direct calls on the test's thread:
 * node A (10.244.1.0/24 behind 192.0.2.1:51820) and node B (10.244.2.0/24 behind 192.0.2.2:51820),
 * each the other's peer. What a device sends (encap FORWARD, decap REPLY, its output) waits in the
 * sender's outbox until {@link #pump()} delivers it, copied into a fresh buffer as a network would;
 * what decap forwards lands in the receiver's {@code tun}; every drop verdict is counted in the
 * receiver's {@code drops} and its buffer released, as the pipeline would.
 */
final class WireGuardPair implements AutoCloseable {
    /** One node. */
    final class Side {
        final String name;
        final int address;
        final int port = WireGuardDevice.DEFAULT_PORT;
        final NoisePrivateKey key;
        final io.dataplane.core.table.RouteTable allowedIps = new io.dataplane.core.table.RouteTable();
        final ConcurrentLinkedDeque<PacketBuffer> outbox = new ConcurrentLinkedDeque<>();
        final List<byte[]> tun = new ArrayList<>();
        final Counters drops = new Counters();
        WireGuardDevice device;
        WireGuardPeer peer; // the other node, as this node's peer
        Side other;

        Side(String name, String address, NoisePrivateKey key) {
            this.name = name;
            this.address = Ipv4Address.parse(address);
            this.key = key;
        }

        /** Encaps an inner packet towards the other node; returns the verdict (drops counted and released). */
        int send(byte[] inner) {
            PacketBuffer p = pool.acquire();
            p.put(inner);
            int v = device.encap(p, peer.id());
            if (v == Encapsulation.FORWARD) {
                outbox.add(p);
            } else if (v >= 0) {
                drops.drop(v);
                p.release();
            }
            return v;
        }

        /** Delivers {@code bytes} to this node's decap as if from {@code fromAddress:fromPort}; returns the verdict. */
        int receive(byte[] bytes, int fromAddress, int fromPort) {
            PacketBuffer p = pool.acquire();
            p.put(bytes).setPeer(fromAddress, fromPort);
            int v = device.decap(p);
            if (v == Encapsulation.FORWARD) {
                tun.add(p.toByteArray());
                p.release();
            } else if (v == Encapsulation.REPLY) {
                outbox.add(p);
            } else if (v >= 0) {
                drops.drop(v);
                p.release();
            }
            return v;
        }

        /** Takes everything in the outbox as bytes (sent nowhere). */
        List<byte[]> takeOutbox() {
            List<byte[]> out = new ArrayList<>();
            PacketBuffer p;
            while ((p = outbox.poll()) != null) {
                out.add(p.toByteArray());
                p.release();
            }
            return out;
        }

        long dropped(DropReason r) {
            return drops.dropped(r);
        }
    }

    final FakeClock clock = new FakeClock();
    final PacketPool pool = new PacketPool(512);
    final Side a;
    final Side b;
    /** Applied to every datagram on the wire before delivery; returning null loses it. */
    UnaryOperator<byte[]> wire = UnaryOperator.identity();

    WireGuardPair(WireGuardTimings timings, int loadThresholdB, PresharedKey pskA, PresharedKey pskB) {
        this(timings, loadThresholdB, pskA, pskB, TransportCipher.SEGMENT, TransportCipher.SEGMENT);
    }

    /** A pair whose nodes seal and open transport data with {@code cipherA} and {@code cipherB}. */
    WireGuardPair(TransportCipher cipherA, TransportCipher cipherB) {
        this(WireGuardTimings.DEFAULT, 500, PresharedKey.NONE, PresharedKey.NONE, cipherA, cipherB);
    }

    WireGuardPair(WireGuardTimings timings, int loadThresholdB, PresharedKey pskA, PresharedKey pskB, TransportCipher cipherA,
            TransportCipher cipherB) {
        a = new Side("A", "192.0.2.1", NoisePrivateKey.generate());
        b = new Side("B", "192.0.2.2", NoisePrivateKey.generate());
        a.other = b;
        b.other = a;
        a.device = new WireGuardDevice(WireGuardConfig.of(a.key).with(timings, clock).with(cipherA), a.allowedIps, pool, a.outbox::add);
        b.device = new WireGuardDevice(WireGuardConfig.of(b.key).with(timings, clock).with(cipherB).withHandshakeLoadThreshold(loadThresholdB),
                b.allowedIps, pool, b.outbox::add);
        a.peer = a.device.addPeer(new PeerConfig(b.key.publicKey(), pskA, b.address, b.port,
                List.of(Ipv4Prefix.parse("10.244.2.0/24")), 0));
        b.peer = b.device.addPeer(new PeerConfig(a.key.publicKey(), pskB, a.address, a.port,
                List.of(Ipv4Prefix.parse("10.244.1.0/24")), 0));
    }

    WireGuardPair(WireGuardTimings timings) {
        this(timings, 500, PresharedKey.NONE, PresharedKey.NONE);
    }

    WireGuardPair() {
        this(WireGuardTimings.DEFAULT);
    }

    /** Delivers everything in both outboxes, and what that produces, until the wire is quiet; returns datagrams delivered. */
    int pump() {
        int n = 0;
        boolean any = true;
        while (any) {
            any = false;
            for (Side from : new Side[] {a, b}) {
                PacketBuffer p;
                while ((p = from.outbox.poll()) != null) {
                    any = true;
                    assertEquals(from.other.address, p.peerAddress(), from.name + " sends to the other node's endpoint");
                    byte[] bytes = wire.apply(p.toByteArray());
                    p.release();
                    if (bytes == null) continue;
                    from.other.receive(bytes, from.address, from.port);
                    n++;
                }
            }
        }
        return n;
    }

    /** Runs both devices' timers. */
    void tick() {
        a.device.tick();
        b.device.tick();
    }

    /** A handshake started by A and completed, plus the confirming keepalive. */
    void handshake() {
        a.device.peer(a.peer.id()).sendInitiation(false, clock.nanoTime());
        pump();
    }

    @Override
    public void close() {
        a.takeOutbox();
        b.takeOutbox();
        a.device.close();
        b.device.close();
        assertEquals(0, pool.outstanding(), "buffers outstanding at the end");
        pool.close();
    }
}
