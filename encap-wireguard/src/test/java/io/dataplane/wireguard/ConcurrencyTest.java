package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.dataplane.core.wire.NetworkOrder.U32;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
 * floods it, and a timer thread ticks both. Every packet must arrive exactly once and every buffer
 * must come back. The one drop allowed is the one a network's reordering causes too: a sender
 * thread descheduled between taking its counter and handing the message on, while the other sealed
 * more than the replay window, delivers a counter the window has left behind. Such a message is
 * counted apart and must really be that far behind; any other replay drop (a nonce used twice
 * shows as one) or other drop fails the test.
 */
class ConcurrencyTest {
    private static final int PER_SENDER = 20_000;
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A device, its wire inbox, what it delivered and its drop counts (receive thread only). */
    private static final class Node {
        final NoisePrivateKey key = NoisePrivateKey.generate();
        final int address;
        final ConcurrentLinkedQueue<PacketBuffer> inbox = new ConcurrentLinkedQueue<>();
        final BitSet delivered = new BitSet();
        final Counters drops = new Counters();
        /** Receive thread only: the highest transport counter the device took, and the messages the window had left behind. */
        long highest = -1;
        int behindWindow;
        /** Every transport counter this node's senders sealed, one array per sender. */
        final List<long[]> sealed = new java.util.concurrent.CopyOnWriteArrayList<>();
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

            assertEquals(2 * PER_SENDER, distinct(a.sealed), "A's two senders sealed every message under a counter of its own");
            assertEquals(PER_SENDER, distinct(b.sealed), "B's counters");
            assertEquals(2 * PER_SENDER, b.delivered.cardinality() + b.behindWindow,
                    "every packet of both of A's senders, once (" + b.behindWindow + " left behind the replay window)");
            assertEquals(PER_SENDER, a.delivered.cardinality() + a.behindWindow,
                    "every packet of B's sender, once (" + a.behindWindow + " left behind the replay window)");
            assertEquals(0, a.drops.droppedTotal(), "A's decap drops: " + dropsOf(a.drops));
            assertEquals(0, b.drops.droppedTotal(), "B's decap drops (a reused nonce would show as replay or decrypt failure): " + dropsOf(b.drops));

            a.device.close();
            b.device.close();
            for (Node n : new Node[] {a, b}) {
                PacketBuffer p;
                while ((p = n.inbox.poll()) != null) p.release();
            }
            assertEquals(0, pool.outstanding());
        }
    }

    private static String dropsOf(Counters drops) {
        StringBuilder sb = new StringBuilder();
        for (DropReason r : DropReason.values()) {
            if (drops.dropped(r) > 0) sb.append(r).append('=').append(drops.dropped(r)).append(' ');
        }
        return sb.toString().trim();
    }

    private static int distinct(List<long[]> sealed) {
        return (int) sealed.stream().flatMapToLong(java.util.Arrays::stream).distinct().count();
    }

    /** The counter of the transport message at the start of {@code p}'s data, or -1 if it is another message. */
    private static long transportCounter(PacketBuffer p) {
        if (p.length() < MessageType.TRANSPORT_HEADER_LEN || p.segment().get(ValueLayout.JAVA_BYTE, p.offset()) != MessageType.TRANSPORT) {
            return -1;
        }
        return p.segment().get(LE64, p.offset() + 8);
    }

    private static Thread sender(Node n, PacketPool pool, String src, String dst, int firstSeq) {
        byte[] template = Ipv4Packets.icmpEcho(src, dst, 200, 1);
        long[] counters = new long[PER_SENDER];
        n.sealed.add(counters);
        return Thread.ofPlatform().name("wg-send-" + src).start(() -> {
            for (int i = 0; i < PER_SENDER; i++) {
                PacketBuffer p;
                while ((p = pool.acquire()) == null) Thread.onSpinWait();
                p.put(template);
                p.segment().set(U32, p.offset() + 28, firstSeq + i);
                int v = n.device.encap(p, n.peer.id());
                if (v == Encapsulation.FORWARD) {
                    counters[i] = transportCounter(p);
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
                long counter = transportCounter(p);
                int v = n.device.decap(p);
                if (v < 0 && counter >= 0) n.highest = Math.max(n.highest, counter);
                if (v == DropReason.WG_REPLAY.ordinal() && counter >= 0 && n.highest - counter > ReplayWindow.WINDOW) {
                    n.behindWindow++;
                    p.release();
                } else if (v == Encapsulation.FORWARD) {
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
