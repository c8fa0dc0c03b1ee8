package io.dataplane.wireguard.interop;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.wireguard.NoisePrivateKey;
import io.dataplane.wireguard.NoisePublicKey;
import io.dataplane.wireguard.PeerConfig;
import io.dataplane.wireguard.WireGuardConfig;
import io.dataplane.wireguard.WireGuardDevice;
import io.dataplane.wireguard.WireGuardPeer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.List;

/**
 * Our side of the wireguard-go interop test, run as a child JVM inside a network namespace (so its
 * UDP socket lives there): a {@link WireGuardDevice} on a plain {@link DatagramChannel}, no TUN.
 * The inner packets are ICMP echoes built and answered by hand.
 *
 * <p>Arguments: {@code initiate|respond bindAddress port peerPublicKey peerEndpointAddress peerPort
 * ourTunnelAddress peerTunnelAddress}; our private key comes on standard input. In {@code
 * initiate} mode it pings the peer's tunnel address until three replies came back; in {@code
 * respond} mode it answers echo requests until it answered three. It prints one line per event
 * (HANDSHAKE, ECHO-REPLY, ECHO-ANSWERED, DROP reason) and exits 0 on success, 2 on timeout.
 */
public final class InteropPeerMain {
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private InteropPeerMain() {}

    /** Runs one side of the interop test; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        boolean initiate = args[0].equals("initiate");
        int bindAddress = Ipv4Address.parse(args[1]);
        int port = Integer.parseInt(args[2]);
        NoisePublicKey peerKey = NoisePublicKey.parse(args[3]);
        int peerAddress = Ipv4Address.parse(args[4]);
        int peerPort = Integer.parseInt(args[5]);
        int ourTunnel = Ipv4Address.parse(args[6]);
        int peerTunnel = Ipv4Address.parse(args[7]);
        NoisePrivateKey key = NoisePrivateKey.parse(new BufferedReader(new InputStreamReader(System.in)).readLine());

        try (PacketPool pool = new PacketPool(256);
                DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
                Selector selector = Selector.open()) {
            channel.bind(new InetSocketAddress(Ipv4Address.toInetAddress(bindAddress), port));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            WireGuardDevice device = new WireGuardDevice(WireGuardConfig.of(key), new RouteTable(), pool, p -> send(channel, p));
            WireGuardPeer peer = device.addPeer(new PeerConfig(peerKey, null, initiate ? peerAddress : 0, initiate ? peerPort : 0,
                    List.of(Ipv4Prefix.containing(peerTunnel, 24)), 0));
            System.out.println("READY " + device.publicKey());

            long deadline = System.nanoTime() + 30_000_000_000L;
            long nextPing = 0;
            int seq = 0;
            int done = 0;
            boolean handshake = false;
            while (done < 3 && System.nanoTime() < deadline) {
                if (initiate && System.nanoTime() - nextPing >= 0) {
                    nextPing = System.nanoTime() + 500_000_000L;
                    PacketBuffer p = pool.acquire();
                    writeEcho(p, ourTunnel, peerTunnel, 8, ++seq);
                    handle(device.encap(p, peer.id()), p, channel, "encap");
                }
                selector.select(50);
                selector.selectedKeys().clear();
                PacketBuffer p;
                while ((p = receive(channel, pool)) != null) {
                    int v = device.decap(p);
                    if (v == Encapsulation.FORWARD) {
                        MemorySegment s = p.segment();
                        int off = p.offset();
                        int type = s.get(ValueLayout.JAVA_BYTE, off + 20) & 0xff;
                        int echoSeq = Short.toUnsignedInt(s.get(BE_SHORT, off + 26));
                        if (initiate && type == 0 && s.get(BE_INT, off + 12) == peerTunnel) {
                            System.out.println("ECHO-REPLY seq=" + echoSeq);
                            done++;
                            p.release();
                        } else if (!initiate && type == 8 && s.get(BE_INT, off + 16) == ourTunnel) {
                            turnIntoReply(p);
                            handle(device.encap(p, peer.id()), p, channel, "encap reply");
                            System.out.println("ECHO-ANSWERED seq=" + echoSeq);
                            done++;
                        } else {
                            System.out.println("UNEXPECTED inner packet type=" + type);
                            p.release();
                        }
                    } else {
                        handle(v, p, channel, "decap");
                    }
                }
                if (!handshake && peer.hasSession()) {
                    handshake = true;
                    System.out.println("HANDSHAKE");
                }
                device.tick();
            }
            device.close();
            System.out.println(done >= 3 ? "DONE" : "TIMEOUT");
            System.out.flush();
            System.exit(done >= 3 ? 0 : 2);
        }
    }

    private static void handle(int verdict, PacketBuffer p, DatagramChannel channel, String where) {
        if (verdict == Encapsulation.FORWARD || verdict == Encapsulation.REPLY) {
            send(channel, p);
        } else if (verdict >= 0) {
            System.out.println("DROP " + where + " " + DropReason.of(verdict));
            p.release();
        }
    }

    private static void send(DatagramChannel channel, PacketBuffer p) {
        try {
            ByteBuffer bb = p.segment().asSlice(p.offset(), p.length()).asByteBuffer();
            channel.send(bb, new InetSocketAddress(Ipv4Address.toInetAddress(p.peerAddress()), p.peerPort()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            p.release();
        }
    }

    private static PacketBuffer receive(DatagramChannel channel, PacketPool pool) throws IOException {
        PacketBuffer p = pool.acquire();
        ByteBuffer bb = p.segment().asSlice(p.offset(), p.capacity() - p.offset() - 64).asByteBuffer();
        InetSocketAddress from = (InetSocketAddress) channel.receive(bb);
        if (from == null) {
            p.release();
            return null;
        }
        p.setLength(bb.position()).setPeer(Ipv4Address.of((Inet4Address) from.getAddress()), from.getPort());
        return p;
    }

    /** An IPv4 ICMP echo (type 8) or echo reply (type 0) of 84 bytes, identifier 0x4a47. */
    private static void writeEcho(PacketBuffer p, int src, int dst, int type, int seq) {
        int len = 84;
        p.setLength(len);
        MemorySegment s = p.segment();
        int off = p.offset();
        s.asSlice(off, len).fill((byte) 0);
        s.set(ValueLayout.JAVA_BYTE, off, (byte) 0x45);
        s.set(BE_SHORT, off + 2, (short) len);
        s.set(ValueLayout.JAVA_BYTE, off + 8, (byte) 64);
        s.set(ValueLayout.JAVA_BYTE, off + 9, (byte) 1);
        s.set(BE_INT, off + 12, src);
        s.set(BE_INT, off + 16, dst);
        s.set(BE_SHORT, off + 10, (short) checksum(s, off, 20));
        s.set(ValueLayout.JAVA_BYTE, off + 20, (byte) type);
        s.set(BE_SHORT, off + 24, (short) 0x4a47);
        s.set(BE_SHORT, off + 26, (short) seq);
        for (int i = 28; i < len; i++) s.set(ValueLayout.JAVA_BYTE, off + i, (byte) i);
        s.set(BE_SHORT, off + 22, (short) checksum(s, off + 20, len - 20));
    }

    /** Swaps the addresses, makes the ICMP an echo reply, recomputes both checksums. */
    private static void turnIntoReply(PacketBuffer p) {
        MemorySegment s = p.segment();
        int off = p.offset();
        int len = p.length();
        int src = s.get(BE_INT, off + 12);
        s.set(BE_INT, off + 12, s.get(BE_INT, off + 16));
        s.set(BE_INT, off + 16, src);
        s.set(BE_SHORT, off + 10, (short) 0);
        s.set(BE_SHORT, off + 10, (short) checksum(s, off, 20));
        int ihl = (s.get(ValueLayout.JAVA_BYTE, off) & 0xf) * 4;
        s.set(ValueLayout.JAVA_BYTE, off + ihl, (byte) 0);
        s.set(BE_SHORT, off + ihl + 2, (short) 0);
        s.set(BE_SHORT, off + ihl + 2, (short) checksum(s, off + ihl, len - ihl));
    }

    private static int checksum(MemorySegment s, long off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) sum += Short.toUnsignedInt(s.get(BE_SHORT, off + i));
        if ((len & 1) != 0) sum += (s.get(ValueLayout.JAVA_BYTE, off + len - 1) & 0xff) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) (~sum & 0xffff);
    }
}
