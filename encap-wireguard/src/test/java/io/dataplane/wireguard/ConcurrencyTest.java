package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.dataplane.core.wire.NetworkOrder.U32;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The threading model under real concurrency: two threads encap to the same peer at once (atomic
 * counters: no nonce twice), each device decaps on its own receive thread while the other side
 * floods it, and a timer thread ticks both. Every packet must arrive exactly once, nothing may be
 * dropped, and every buffer must come back.
 */
class ConcurrencyTest {
    private static final int PER_SENDER = 20_000;

    /** A device, its wire inbox, what it delivered and its drop counts (receive thread only). */
    private static final class Node {
        final NoisePrivateKey key = NoisePrivateKey.generate();
        final int address;
        final ConcurrentLinkedQueue<PacketBuffer> inbox = new ConcurrentLinkedQueue<>();
        final BitSet delivered = new BitSet();
        final Counters drops = new Counters();
        WireGuardDevice device;
        WireGuardPeer peer;
        Node other;

        Node(String address) {
            this.address = Ipv4Address.parse(address);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void concurrentSealersReceiversAndTimers() throws Exception {
        try (PacketPool pool = new PacketPool(4096)) {
            Node a = new Node("192.0.2.1");
            Node b = new Node("192.0.2.2");
            a.other = b;
            b.other = a;
            for (Node n : new Node[] {a, b}) {
                n.device = new WireGuardDevice(WireGuardConfig.of(n.key), new RouteTable(), pool, p -> n.other.inbox.add(p));
            }
            a.peer = a.device.addPeer(PeerConfig.of(b.key.publicKey(), b.address, 51820, List.of(Ipv4Prefix.parse("10.244.2.0/24"))));
            b.peer = b.device.addPeer(PeerConfig.of(a.key.publicKey(), a.address, 51820, List.of(Ipv4Prefix.parse("10.244.1.0/24"))));

            AtomicBoolean running = new AtomicBoolean(true);
            Thread[] receivers = {receiver(a, running), receiver(b, running)};
            Thread ticker = Thread.ofPlatform().name("wg-tick").start(() -> {
                while (running.get()) {
                    a.device.tick();
                    b.device.tick();
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            // A handshake first (started by A's timer-free initiate, completed by the receive threads).
            a.peer.initiateHandshake();
            long hs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(a.peer.hasSession() && b.peer.hasSession()) && System.nanoTime() < hs) Thread.sleep(5);
            assertTrue(a.peer.hasSession() && b.peer.hasSession(), "handshake over the receive threads");
            Thread[] senders = {
                sender(a, pool, "10.244.1.5", "10.244.2.7", 0),
                sender(a, pool, "10.244.1.6", "10.244.2.7", PER_SENDER),
                sender(b, pool, "10.244.2.7", "10.244.1.5", 0),
            };
            for (Thread t : senders) t.join();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((b.delivered.cardinality() < 2 * PER_SENDER || a.delivered.cardinality() < PER_SENDER) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            running.set(false);
            for (Thread t : receivers) t.join();
            ticker.join();

            assertEquals(2 * PER_SENDER, b.delivered.cardinality(), "every packet of both of A's senders, once");
            assertEquals(PER_SENDER, a.delivered.cardinality(), "every packet of B's sender, once");
            assertEquals(0, a.drops.droppedTotal(), "A's decap drops");
            assertEquals(0, b.drops.droppedTotal(), "B's decap drops (a reused nonce would show as replay or decrypt failure)");

            a.device.close();
            b.device.close();
            for (Node n : new Node[] {a, b}) {
                PacketBuffer p;
                while ((p = n.inbox.poll()) != null) p.release();
            }
            assertEquals(0, pool.outstanding());
        }
    }

    private static Thread sender(Node n, PacketPool pool, String src, String dst, int firstSeq) {
        byte[] template = Ipv4Packets.icmpEcho(src, dst, 200, 1);
        return Thread.ofPlatform().name("wg-send-" + src).start(() -> {
            for (int i = 0; i < PER_SENDER; i++) {
                PacketBuffer p;
                while ((p = pool.acquire()) == null) Thread.onSpinWait();
                p.put(template);
                p.segment().set(U32, p.offset() + 28, firstSeq + i);
                int v = n.device.encap(p, n.peer.id());
                if (v == Encapsulation.FORWARD) {
                    n.other.inbox.add(p);
                } else if (v != Encapsulation.CONSUMED) {
                    p.release();
                    throw new AssertionError("encap verdict " + v);
                }
                if ((i & 1023) == 0) Thread.yield();
            }
        });
    }

    private static Thread receiver(Node n, AtomicBoolean running) {
        return Thread.ofPlatform().name("wg-recv").start(() -> {
            while (running.get() || !n.inbox.isEmpty()) {
                PacketBuffer p = n.inbox.poll();
                if (p == null) {
                    Thread.onSpinWait();
                    continue;
                }
                p.setPeer(n.other.address, 51820);
                int v = n.device.decap(p);
                if (v == Encapsulation.FORWARD) {
                    n.delivered.set(p.segment().get(U32, p.offset() + 28));
                    p.release();
                } else if (v == Encapsulation.REPLY) {
                    n.other.inbox.add(p);
                } else if (v >= 0) {
                    n.drops.drop(v);
                    p.release();
                }
            }
        });
    }
}
