package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.WireguardLeaseData;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.wireguard.TransportCipher;
import io.dataplane.wireguard.WireGuardBackend;
import io.dataplane.wireguard.WireGuardDevice;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The wireguard backend through the library API ({@link OverlayNode}): two of our nodes carrying
 * ping and iperf3 TCP both ways, each configured only from net-conf.json and the other's lease,
 * with its key in the state directory as {@code wg} writes keys; and our node against wireguard-go
 * configured with {@code wg} as flanneld configures kernel WireGuard. (Handshake directions, rekeys
 * and bad input are covered in encap-wireguard's root tests.) Neither node's private key nor the
 * preshared key may show in anything the tests log or print ({@link SecretLeakCheck}).
 */
@ExtendWith(SecretLeakCheck.class)
class WireGuardNodesTest {
    static final NetConf WIREGUARD = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"wireguard\"}}");
    private static final String PSK = randomKey();
    /** flannel's wireguard backend with a preshared key, as net-conf.json's "PSK" gives it to every node. */
    static final NetConf WIREGUARD_PSK = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"wireguard\", \"PSK\": \""
            + PSK + "\"}}");

    @Test
    void twoWireguardNodesCarryPingAndTcpBothWays() throws Exception {
        Prerequisites.program("iperf3");
        Prerequisites.program("wg");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, bed.config(a, WIREGUARD_PSK));
            // The other node seals with our own cipher only: the two interoperate whatever each one chose.
            OverlayNode nodeB = bed.start(b, bed.config(b, WIREGUARD_PSK).withWireguardCipher(TransportCipher.SEGMENT));
            assertEquals("flannel-wg", nodeA.tunName());
            VxlanInteropTest.assertDeviceAsFlannelMakesIt(a, nodeA); // MTU 1500 - 80
            assertEquals(1420, nodeA.tunMtu());

            // The lease carries the public key of the key kept in the state directory, as wg derives it.
            Lease lease = nodeA.localLease();
            WireguardLeaseData data = lease.wireguard();
            assertEquals(51820, data.port());
            assertEquals(51820, nodeA.port());
            Path keyFile = nodeA.config().effectiveStateDir().resolve("wgkey");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
            String privateKey = Files.readString(keyFile).strip();
            assertEquals(data.publicKey(), wgPubkey(privateKey), "wg pubkey of our key file is the lease's PublicKey");
            assertFalse(lease.toJson().contains(privateKey) || nodeA.toString().contains(privateKey)
                    || nodeA.config().toString().contains(privateKey), "the private key never shows");

            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            // A's cipher is the default one: its TCP goes through it, not through the scalar fallback at several times the CPU.
            CipherUse useA = CipherUse.awaitDefault(nodeA), useB = new CipherUse(nodeB);
            Traffic.assertTcpBothWays(bed, a, b, "wireguard nodes with offload");
            useA.assertCarriedTcp(TransportCipher.DEFAULT);
            useB.assertCarriedTcp(TransportCipher.SEGMENT);
            // TSO super-packets sealed segment by segment into trains (UDP GSO), trains taken up as one
            // (UDP GRO) and their segments joined into the TUN: on both nodes, whichever cipher each seals with.
            Traffic.assertOffloadCarried(List.of(nodeA, nodeB));
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                long[] trains = n.trainsReceived();
                System.out.printf("%s: %d super-packets sent, %d trains received (%d datagrams), %d segments joined%n", n.tunName(),
                        n.superPacketsSent(), trains[0], trains[1], n.segmentsJoined());
                assertTrue(trains[0] > 0 && trains[1] >= 2 * trains[0], "trains received: " + Arrays.toString(trains) + " by " + n);
            }

            for (OverlayNode n : List.of(nodeA, nodeB)) {
                NodeStats s = n.stats();
                assertTrue(s.egressPackets() > 1000 && s.ingressPackets() > 1000, s.toString());
                closeWithNothingDropped(n);
            }
            assertFalse(VxlanInteropTest.linkExists(a, "flannel-wg"), "the TUN must be gone after close");
            assertFalse(VxlanInteropTest.linkExists(b, "flannel-wg"), "the TUN must be gone after close");
            assertTrue(Files.exists(keyFile), "the key stays for the next start");
            assertEquals(List.of(), log.problems());
        }
    }

    /**
     * Segments of 200 bytes: a 64 KiB super-packet of them would be some 330 messages, whose headers
     * and tags do not fit the buffer it is sealed in; the node bounds the TUN's super-packets
     * ({@code gso_max_segs}) so that every train fits, and nothing is dropped.
     */
    @Test
    void smallSegmentsAreSealedIntoTrainsThatFitTheirBuffer() throws Exception {
        Prerequisites.program("iperf3");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = bed.start(a, bed.config(a, WIREGUARD));
            OverlayNode nodeB = bed.start(b, bed.config(b, WIREGUARD));
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            String link = Hosts.runAnyway("ip", "netns", "exec", a.ns().name(), "ip", "-d", "link", "show", "dev", nodeA.tunName()).output();
            assertTrue(link.contains("gso_max_segs 64 "), "the TUN's super-packets bounded: " + link);
            Traffic.assertPings(a, b, 4);
            double ab = Hosts.iperf3(a.ns(), a.pod(), b.ns(), b.pod(), Traffic.TCP_SECONDS, false, 1, 0, 200);
            double ba = Hosts.iperf3(a.ns(), a.pod(), b.ns(), b.pod(), Traffic.TCP_SECONDS, true, 1, 0, 200);
            System.out.printf("wireguard, MSS 200, TCP %d s: a -> b %.0f Mbit/s, b -> a %.0f Mbit/s%n", Traffic.TCP_SECONDS, ab / 1e6, ba / 1e6);
            assertTrue(ab > 10e6 && ba > 10e6, "TCP with 200-byte segments: " + ab + " / " + ba + " bit/s");
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                assertTrue(n.superPacketsSent() > 0, "super-packets of small segments sealed as trains by " + n);
                closeWithNothingDropped(n);
            }
            assertEquals(List.of(), log.problems());
        }
    }

    @Test
    void twoWireguardNodesWithoutOffloadSealEveryPacketAlone() throws Exception {
        Prerequisites.program("iperf3");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            PacketPathOptions plain = PacketPathOptions.defaults().withOffload(false);
            OverlayNode nodeA = bed.start(a, bed.config(a, WIREGUARD).withPacketPath(plain));
            OverlayNode nodeB = bed.start(b, bed.config(b, WIREGUARD).withPacketPath(plain));
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            Traffic.assertPings(a, b, 4);
            Traffic.assertTcpBothWays(bed, a, b, "wireguard nodes without offload");
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                assertFalse(n.offload(), n.toString());
                assertEquals(0, n.superPacketsSent(), "super-packets without offload, " + n);
                assertEquals(0, n.trainsReceived()[0], "trains without offload, " + n);
                closeWithNothingDropped(n);
            }
            assertEquals(List.of(), log.problems());
        }
    }

    /**
     * The transport payload bytes a wireguard node sealed and opened, by the cipher code that did it
     * ({@link WireGuardDevice#transportBytes}), from the moment of construction on.
     */
    private record CipherUse(OverlayNode node, long[][] start) {
        /** The codes a node's messages can go through. */
        private static final List<TransportCipher> CODES = List.of(TransportCipher.VECTOR, TransportCipher.SEGMENT, TransportCipher.JDK);

        CipherUse(OverlayNode node) {
            this(node, counts(node));
        }

        /**
         * Once {@code node}'s default cipher is ready: where that is the vector one, it takes over
         * from the scalar one when its warm-up has compiled it, which may take minutes on a loaded
         * machine (as {@code VectorChaCha20Poly1305Test} allows); a vector cipher that never gets
         * there fails here.
         */
        static CipherUse awaitDefault(OverlayNode node) throws InterruptedException {
            if (TransportCipher.DEFAULT == TransportCipher.VECTOR) {
                long t0 = System.nanoTime(), deadline = t0 + 300_000_000_000L;
                while (!VectorChaCha20Poly1305.isWarm() && System.nanoTime() < deadline) Thread.sleep(10);
                assertTrue(VectorChaCha20Poly1305.isWarm(), "the vector cipher warm within 300 s");
                System.out.printf(java.util.Locale.ROOT, "vector cipher warm after a further %.1f s%n", (System.nanoTime() - t0) / 1e9);
            }
            return new CipherUse(node);
        }

        private static long[][] counts(OverlayNode node) {
            WireGuardDevice device = ((WireGuardBackend) node.backend()).encapsulation();
            return CODES.stream().map(device::transportBytes).toArray(long[][]::new);
        }

        /**
         * Asserts that the node's TCP since construction went through {@code cipher}: nine in ten of
         * the payload bytes it sealed and of those it opened through {@code cipher}'s main code (the
         * vector one for {@link TransportCipher#VECTOR}, the JDK's for {@link TransportCipher#BY_SIZE},
         * ...). Not all: short messages that come alone, acknowledgements at a low rate, take the
         * scalar code by design.
         */
        void assertCarriedTcp(TransportCipher cipher) {
            TransportCipher main = cipher == TransportCipher.BY_SIZE ? TransportCipher.JDK : cipher;
            long[][] now = counts(node);
            long[] all = new long[2], byMain = new long[2];
            StringBuilder seen = new StringBuilder();
            for (int c = 0; c < CODES.size(); c++) {
                long sealed = now[c][0] - start[c][0], opened = now[c][1] - start[c][1];
                all[0] += sealed;
                all[1] += opened;
                if (CODES.get(c) == main) byMain = new long[] {sealed, opened};
                seen.append(String.format(java.util.Locale.ROOT, " %s %,d B sealed, %,d B opened;", CODES.get(c), sealed, opened));
            }
            System.out.printf("%s (%s) over TCP:%s%n", node.tunName(), cipher, seen);
            assertTrue(all[0] > 1_000_000 && all[1] > 1_000_000, "TCP each way:" + seen);
            assertTrue(byMain[0] >= 0.9 * all[0] && byMain[1] >= 0.9 * all[1], main + " carried TCP (" + cipher + " configured):" + seen);
        }
    }

    /** Asserts that {@code n} dropped nothing, closes it and asserts every buffer came back. */
    private static void closeWithNothingDropped(OverlayNode n) {
        NodeStats s = n.stats();
        assertEquals(0, s.droppedTotal(), s.toString());
        n.close();
        assertEquals(0, n.buffersInUse(), "buffers still out after close");
    }

    @Test
    void ourNodeAndWireguardGoHandshakeAndCarryPingAndTcpBothWays() throws Exception {
        Prerequisites.program("wireguard-go");
        Prerequisites.program("iperf3");
        Prerequisites.program("wg");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode ours = bed.start(a, bed.config(a, WIREGUARD));
            // wireguard-go's control socket lives in /var/run/wireguard, shared by every namespace: a unique name.
            String iface = Hosts.unique("wgo");
            bed.startTool(b, "wireguard-go", "-f", iface);
            for (int i = 0; i < 200 && !VxlanInteropTest.linkExists(b, iface); i++) Thread.sleep(25);
            String goKey = Hosts.run("wg", "genkey").strip();
            Path goKeyFile = Files.createTempFile("wgo", ".key", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.writeString(goKeyFile, goKey + "\n");
                Hosts.run(b.exec("wg", "set", iface, "private-key", goKeyFile.toString(), "listen-port", "51820", "peer",
                        ours.localLease().wireguard().publicKey(), "allowed-ips", a.subnet().toString(), "endpoint",
                        a.addressText() + ":51820"));
            } finally {
                Files.delete(goKeyFile);
            }
            Hosts.run("ip", "-n", b.name(), "link", "set", iface, "mtu", "1420", "up");
            Hosts.run("ip", "-n", b.name(), "addr", "add", Ipv4Address.toString(b.vtep()) + "/32", "dev", iface);
            Hosts.run("ip", "-n", b.name(), "route", "add", "10.244.0.0/16", "dev", iface);
            ours.addPeer(Lease.wireguard(b.subnet(), b.address(), new WireguardLeaseData(wgPubkey(goKey), 51820)));

            Traffic.Ping first = Traffic.ping(a, b, 4, 0.2);
            assertTrue(first.received() >= 3, "our initiation, then pings through wireguard-go:\n" + first.output());
            Traffic.assertPings(b, a, 4);
            String handshakes = Hosts.run(b.exec("wg", "show", iface, "latest-handshakes"));
            assertFalse(handshakes.strip().endsWith("\t0"), "wireguard-go completed a handshake: " + handshakes);
            // Our node with offload on: wireguard-go opens every message of our trains, and we open its.
            Traffic.assertTcpBothWays(bed, a, b, "our wireguard node (offload) and wireguard-go", 3);
            assertTrue(ours.offload() && ours.superPacketsSent() > 0, "super-packets sent to wireguard-go: " + ours.superPacketsSent());
            System.out.printf("ours: %d super-packets sent, trains received %s, %d segments joined%n", ours.superPacketsSent(),
                    Arrays.toString(ours.trainsReceived()), ours.segmentsJoined());
            assertEquals(0, ours.stats().droppedTotal(), ours.stats().toString());
            ours.close();
            assertEquals(0, ours.buffersInUse());
            assertEquals(List.of(), log.problems());
        }
    }

    private static String randomKey() {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return java.util.Base64.getEncoder().encodeToString(key);
    }

    private static String wgPubkey(String privateKey) throws Exception {
        Prerequisites.program("wg");
        Process p = new ProcessBuilder("wg", "pubkey").redirectErrorStream(true).start();
        p.getOutputStream().write((privateKey + "\n").getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, "wg pubkey: " + out);
        return out;
    }
}
