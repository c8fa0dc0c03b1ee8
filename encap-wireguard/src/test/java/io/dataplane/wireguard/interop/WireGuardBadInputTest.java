package io.dataplane.wireguard.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.wireguard.WireGuardOptions;
import io.dataplane.wireguard.crypto.Blake2s;
import io.dataplane.wireguard.crypto.XChaCha20Poly1305;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad input at node level: while a ping flow runs from B's pod to A's, a sender inside B's
 * namespace throws at A's WireGuard port what an attacker on the underlay could: handshake messages
 * with a wrong mac1, a transport message captured on the wire and sent again, transport messages for
 * a receiver index nobody holds, truncated and oversize datagrams, and a flood of initiations (first
 * with a valid mac1 only, then with the cookie A handed out as mac2). Every one is dropped and
 * counted under its reason, A answers the flood with cookie replies once above its load threshold
 * (20 handshake messages a second here), every ping is answered, and every buffer is back at close.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WireGuardBadInputTest {
    private static final int LOAD_THRESHOLD = 20;
    private final Random random = new Random(7);

    @Test
    void everyBadDatagramIsDroppedAndCountedWhileGoodTrafficFlows() throws Exception {
        Prerequisites.program("ping");
        Prerequisites.program("tshark");
        try (WgTestbed bed = WgTestbed.twoHosts()) {
            WgTestbed.Host a = bed.host(1);
            WgTestbed.Host b = bed.host(2);
            WgTestbed.OurNode nodeA = bed.startOurs(a, WgTestbed.netConf(null),
                    WireGuardOptions.defaults().withHandshakeLoadThreshold(LOAD_THRESHOLD));
            WgTestbed.OurNode nodeB = bed.startOurs(b, WgTestbed.netConf(null), WireGuardOptions.defaults());
            nodeA.backend.addPeer(nodeB.backend.localLease());
            nodeB.backend.addPeer(nodeA.backend.localLease());
            assertTrue(WgTraffic.ping(b, a, 2, 0.2).received() >= 1, "session up before the attack");

            // One transport message from B to A as it crossed the wire, to replay later.
            Process tshark = bed.startProcess(a, "tshark", "-i", "veth0", "-n", "-l", "-c", "1",
                    "-f", "udp and src host " + b.addressText() + " and dst port " + WgTestbed.PORT + " and greater 130",
                    "-d", "udp.port==" + WgTestbed.PORT + ",data", "-T", "fields", "-e", "data.data");
            awaitLine(tshark, "Capturing on");
            Process flow = WgTraffic.pingFlow(bed, b, a, 150, 0.02);
            byte[] captured = HexFormat.of().parseHex(awaitHexLine(tshark));
            assertEquals(4, captured[0], "captured a transport message");

            DatagramChannel attacker = b.ns().call(() -> {
                DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
                ch.bind(new InetSocketAddress(Ipv4Address.toInetAddress(b.address()), 0));
                return ch;
            });
            try (attacker) {
                InetSocketAddress target = new InetSocketAddress(Ipv4Address.toInetAddress(a.address()), WgTestbed.PORT);
                byte[] mac1Key = Blake2s.hash("mac1----".getBytes(StandardCharsets.US_ASCII), nodeA.backend.publicKey().toBytes());

                for (int i = 0; i < 20; i++) attacker.send(ByteBuffer.wrap(initiation(i, mac1Key, false)), target); // wrong mac1
                for (int i = 0; i < 5; i++) attacker.send(ByteBuffer.wrap(captured), target); // replayed
                for (int i = 0; i < 20; i++) attacker.send(ByteBuffer.wrap(transport(random.nextInt(), 1 + random.nextInt(20))), target);
                for (byte[] truncated : new byte[][] {{4, 0, 0}, new byte[100], Arrays.copyOf(transport(1, 0), 20)}) {
                    if (truncated.length == 100) truncated[0] = 1; // an initiation that ends early
                    attacker.send(ByteBuffer.wrap(truncated), target);
                }
                byte[] longInitiation = new byte[1400]; // an initiation of impossible length, within the largest datagram
                longInitiation[0] = 1;
                attacker.send(ByteBuffer.wrap(longInitiation), target);
                for (int i = 0; i < 5; i++) attacker.send(ByteBuffer.wrap(new byte[3000]), target); // beyond a buffer

                // The flood: initiations with a valid mac1 (garbage inside) as fast as the socket goes.
                Map<Integer, byte[]> mac1BySender = new HashMap<>();
                for (int i = 0; i < 200; i++) {
                    byte[] m = initiation(1000 + i, mac1Key, true);
                    mac1BySender.put(1000 + i, Arrays.copyOfRange(m, 116, 132));
                    attacker.send(ByteBuffer.wrap(m), target);
                }
                attacker.configureBlocking(false);
                int cookieReplies = 0;
                byte[] cookie = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                ByteBuffer in = ByteBuffer.allocate(2048);
                while (System.nanoTime() < deadline && cookieReplies < 150) {
                    in.clear();
                    if (attacker.receive(in) == null) {
                        Thread.sleep(2);
                        continue;
                    }
                    in.flip();
                    if (in.remaining() == 64 && in.get(0) == 3) {
                        cookieReplies++;
                        byte[] reply = new byte[64];
                        in.get(reply);
                        if (cookie == null) cookie = openCookie(reply, nodeA, mac1BySender);
                    }
                }
                assertTrue(cookieReplies >= 100, "cookie replies above the load threshold: " + cookieReplies);
                assertNotNull(cookie, "a cookie that decrypts against our mac1");
                // With the cookie as mac2 the flood passes the cookie check and meets the per-source rate limit.
                for (int i = 0; i < 100; i++) {
                    byte[] m = initiation(5000 + i, mac1Key, true);
                    byte[] mac2 = Blake2s.mac(cookie, m, 0, 132);
                    System.arraycopy(mac2, 0, m, 132, 16);
                    attacker.send(ByteBuffer.wrap(m), target);
                }
            }

            WgTraffic.Ping ping = WgTraffic.finish(flow, 30);
            assertEquals(List.of(), ping.unanswered(150), "good traffic unharmed by the attack:\n" + ping.output());
            // The attack's last datagrams may still be in A's receive loop when the pings end.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Counters.Snapshot s = nodeA.stats();
            while (!(s.dropped(DropReason.WG_BAD_MAC1) >= 20 && s.dropped(DropReason.WG_REPLAY) >= 5
                    && s.dropped(DropReason.WG_UNKNOWN_RECEIVER) >= 20 && s.dropped(DropReason.WG_BAD_MESSAGE) >= 4
                    && s.dropped(DropReason.OVERSIZE) >= 5 && s.dropped(DropReason.WG_COOKIE_REQUIRED) >= 100
                    && s.dropped(DropReason.WG_BAD_HANDSHAKE) >= 1 && s.dropped(DropReason.WG_HANDSHAKE_FLOOD) >= 50)
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
                s = nodeA.stats();
            }
            System.out.println("A's drops: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_BAD_MAC1) >= 20, "wrong mac1: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_REPLAY) >= 5, "replayed: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_UNKNOWN_RECEIVER) >= 20, "unknown receiver: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_BAD_MESSAGE) >= 4, "truncated or impossible lengths: " + drops(s));
            assertTrue(s.dropped(DropReason.OVERSIZE) >= 5, "oversize: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_COOKIE_REQUIRED) >= 100, "cookie replies instead of handshakes: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_BAD_HANDSHAKE) >= 1, "garbage initiations below the threshold: " + drops(s));
            assertTrue(s.dropped(DropReason.WG_HANDSHAKE_FLOOD) >= 50, "rate-limited with a valid cookie: " + drops(s));
            assertEquals(0, s.dropped(DropReason.WG_DECRYPT_FAILED), "nothing reached the cipher unauthenticated: " + drops(s));
        }
    }

    /** A 148-byte initiation from sender index {@code sender}, garbage inside, mac1 valid for {@code mac1Key} or not. */
    private byte[] initiation(int sender, byte[] mac1Key, boolean validMac1) {
        byte[] m = new byte[148];
        random.nextBytes(m);
        m[0] = 1;
        m[1] = m[2] = m[3] = 0;
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(4, sender);
        Arrays.fill(m, 132, 148, (byte) 0);
        if (validMac1) System.arraycopy(Blake2s.mac(mac1Key, m, 0, 116), 0, m, 116, 16);
        return m;
    }

    /** A transport message for {@code receiver} with {@code blocks} 16-byte blocks of garbage after the header. */
    private byte[] transport(int receiver, int blocks) {
        byte[] m = new byte[32 + 16 * blocks];
        random.nextBytes(m);
        m[0] = 4;
        m[1] = m[2] = m[3] = 0;
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(4, receiver);
        return m;
    }

    /** The cookie in a cookie reply (whitepaper 5.4.7): XChaCha20-Poly1305 under HASH("cookie--" || A's key), our mac1 as AAD. */
    private static byte[] openCookie(byte[] reply, WgTestbed.OurNode node, Map<Integer, byte[]> mac1BySender) {
        int receiver = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
        byte[] mac1 = mac1BySender.get(receiver);
        if (mac1 == null) return null;
        byte[] key = Blake2s.hash("cookie--".getBytes(StandardCharsets.US_ASCII), node.backend.publicKey().toBytes());
        return XChaCha20Poly1305.open(key, Arrays.copyOfRange(reply, 8, 32), reply, 32, 32, mac1);
    }

    private static String drops(Counters.Snapshot s) {
        StringBuilder b = new StringBuilder();
        for (DropReason r : DropReason.values()) {
            if (s.dropped(r) > 0) b.append(r.metricName()).append('=').append(s.dropped(r)).append(' ');
        }
        return b.toString().strip();
    }

    private static void awaitLine(Process p, String text) throws IOException {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!seen.toString().contains(text)) {
            if (System.nanoTime() > deadline || !p.isAlive() && p.getInputStream().available() == 0) {
                throw new AssertionError("no '" + text + "' from tshark: " + seen);
            }
            int c = p.getInputStream().read();
            if (c < 0) throw new AssertionError("tshark ended: " + seen);
            seen.append((char) c);
        }
    }

    private static String awaitHexLine(Process p) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII); // tshark ends after one packet
        for (String line : out.lines().toList()) {
            if (line.matches("[0-9a-f]{64,}")) return line;
        }
        throw new AssertionError("no captured payload in tshark's output: " + out);
    }
}
