package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.WireguardLeaseData;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WireGuardBackend} without root: nodes on the core's in-memory network, each a fake TUN, the
 * backend and the core's real {@link Pipeline}; leases in, pings across, the timer thread and the
 * key file observed from outside.
 */
class WireGuardBackendTest {
    private static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    private static final int A = Ipv4Address.parse("192.0.2.1");
    private static final int B = Ipv4Address.parse("192.0.2.2");
    private static final int C = Ipv4Address.parse("192.0.2.3");
    private static final Ipv4Prefix SUBNET_A = Ipv4Prefix.parse("10.244.1.0/24");
    private static final Ipv4Prefix SUBNET_B = Ipv4Prefix.parse("10.244.2.0/24");
    private static final Ipv4Prefix SUBNET_C = Ipv4Prefix.parse("10.244.3.0/24");
    private static final int MTU = 1420;

    @TempDir
    Path dir;
    private final FakeNetwork network = new FakeNetwork();
    private final List<AutoCloseable> open = new ArrayList<>();

    /** A node: pool, backend, fake TUN and pipeline; closing checks that every buffer came back. */
    private final class Node implements AutoCloseable {
        final PacketPool pool = new PacketPool(512);
        final WireGuardBackend backend;
        final FakeTunnelDevice tun;
        final Pipeline pipeline;

        Node(String name, int address, Ipv4Prefix subnet, BackendConf conf, WireGuardOptions options) throws Exception {
            BackendContext ctx = context(name, address, subnet, conf, pool);
            backend = WireGuardBackend.open(ctx, options.withTransports(network::attach));
            tun = new FakeTunnelDevice(name, MTU, 16);
            pipeline = Pipeline.start(PipelineConfig.of(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool));
            open.add(this);
        }

        Counters.Snapshot stats() {
            List<Counters> all = new ArrayList<>(pipeline.counters());
            all.addAll(backend.counters());
            return Counters.Snapshot.of(all);
        }

        @Override
        public void close() {
            pipeline.close();
            backend.close();
            int out = pool.outstanding();
            pool.close();
            assertEquals(0, out, "buffers still out after closing " + tun.name());
        }
    }

    private BackendContext context(String name, int address, Ipv4Prefix subnet, BackendConf conf, PacketPool pool) throws Exception {
        Path state = Files.createDirectories(dir.resolve(name));
        return new BackendContext(NetConf.of(NETWORK, conf), subnet, address, name, MTU, pool, state);
    }

    private Node node(String name, int address, Ipv4Prefix subnet) throws Exception {
        return new Node(name, address, subnet, BackendConf.defaults(BackendType.WIREGUARD), WireGuardOptions.defaults());
    }

    private static BackendConf conf(String psk, int keepalive) {
        return new BackendConf(BackendType.WIREGUARD, 0, 0, false, false, false, 0, psk, BackendConf.DEFAULT_WIREGUARD_PORT, keepalive);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private static void pingAcross(Node from, Node to, String src, String dst, int count) throws InterruptedException {
        for (int i = 0; i < count; i++) from.tun.inject(Ipv4Packets.icmpEcho(src, dst, 84 + i, i));
        for (int i = 0; i < count; i++) {
            byte[] got = to.tun.awaitWritten(Duration.ofSeconds(10));
            assertNotNull(got, "packet " + i + " from " + src + " to " + dst + " did not arrive");
            assertArrayEquals(Ipv4Packets.icmpEcho(src, dst, 84 + i, i), got);
        }
    }

    @Test
    void twoNodesFromEachOthersLeasesCarryPingsBothWays() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        Node b = node("wgb", B, SUBNET_B);
        a.backend.addPeer(b.backend.localLease());
        b.backend.addPeer(a.backend.localLease());

        pingAcross(a, b, "10.244.1.5", "10.244.2.7", 20);
        pingAcross(b, a, "10.244.2.7", "10.244.1.5", 20);
        assertEquals(0, a.stats().droppedTotal(), "drops on A");
        assertEquals(0, b.stats().droppedTotal(), "drops on B");
        assertTrue(a.backend.encapsulation().peer(b.backend.publicKey()).hasSession());
        assertEquals(List.of(b.backend.localLease()), a.backend.peers());
    }

    @Test
    void localLeaseCarriesThePublicKeyAndListenPortAndNothingSecret() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        Lease lease = a.backend.localLease();
        assertEquals(BackendType.WIREGUARD, lease.backendType());
        assertEquals(SUBNET_A, lease.subnet());
        assertEquals(A, lease.publicIp());
        WireguardLeaseData data = lease.wireguard();
        assertEquals(a.backend.publicKey().toBase64(), data.publicKey());
        assertEquals(BackendConf.DEFAULT_WIREGUARD_PORT, data.port());
        assertEquals(BackendConf.DEFAULT_WIREGUARD_PORT, a.backend.listenPort());
        String secret = Files.readString(dir.resolve("wga").resolve(WireGuardBackend.KEY_FILE)).strip();
        for (String shown : List.of(lease.toJson(), lease.toString(), a.backend.toString(), WireGuardOptions.defaults().toString(),
                WireGuardOptions.defaults().withPrivateKey(NoisePrivateKey.parse(secret)).toString())) {
            assertFalse(shown.contains(secret), "private key shown in: " + shown);
        }
        assertSame(a.backend.encapsulation().allowedIps(), a.backend.routes());
        assertEquals(WireGuardDevice.OVERHEAD, BackendType.WIREGUARD.overhead());
    }

    @Test
    void privateKeyIsKeptInTheStateDirectoryWithModeSixHundredAcrossRestarts() throws Exception {
        PacketPool pool = new PacketPool(64);
        try (pool) {
            BackendContext ctx = context("wgk", A, SUBNET_A, BackendConf.defaults(BackendType.WIREGUARD), pool);
            WireGuardOptions options = WireGuardOptions.defaults().withTransports(network::attach);
            NoisePublicKey first;
            try (WireGuardBackend backend = WireGuardBackend.open(ctx, options)) {
                first = backend.publicKey();
            }
            Path keyFile = dir.resolve("wgk").resolve("wgkey");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
            assertEquals(first, NoisePrivateKey.parse(Files.readString(keyFile).strip()).publicKey());
            try (WireGuardBackend again = WireGuardBackend.open(ctx, options)) {
                assertEquals(first, again.publicKey(), "same identity after a restart");
            }
            NoisePrivateKey given = NoisePrivateKey.generate();
            try (WireGuardBackend withKey = WireGuardBackend.open(ctx, options.withPrivateKey(given))) {
                assertEquals(given.publicKey(), withKey.publicKey(), "a key from the options wins over the file");
            }
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void aPeerRestartedWithTheSameKeyAnswersTheSessionItLostWithAHandshake() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        Node b = node("wgb", B, SUBNET_B);
        a.backend.addPeer(b.backend.localLease());
        b.backend.addPeer(a.backend.localLease());
        pingAcross(a, b, "10.244.1.5", "10.244.2.7", 3);
        NoisePublicKey key = b.backend.publicKey();
        b.close();
        open.remove(b);

        // Started again from the same state directory: the same key, no session. A still seals
        // with the old one; B drops that and starts a handshake, well before A's own timers would (15 s).
        Node again = node("wgb", B, SUBNET_B);
        assertEquals(key, again.backend.publicKey());
        again.backend.addPeer(a.backend.localLease());
        long t0 = System.nanoTime();
        byte[] got = null;
        for (int i = 0; got == null && System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(); i++) {
            a.tun.inject(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, i));
            got = again.tun.awaitWritten(Duration.ofMillis(50));
        }
        assertNotNull(got, "A's pings did not reach the restarted B within 10 s");
        assertTrue(again.stats().dropped(DropReason.WG_UNKNOWN_RECEIVER) > 0, "the old session's packets: " + again.stats());
        assertTrue(again.backend.encapsulation().peer(a.backend.publicKey()).hasSession());
    }

    @Test
    void aRenewedLeaseUpdatesThePeerAndKeepsItsSession() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        Node b = node("wgb", B, SUBNET_B);
        a.backend.addPeer(b.backend.localLease());
        b.backend.addPeer(a.backend.localLease());
        pingAcross(a, b, "10.244.1.5", "10.244.2.7", 3);
        WireGuardPeer peer = a.backend.encapsulation().peer(b.backend.publicKey());
        Keypair session = peer.current;
        assertNotNull(session);

        a.backend.addPeer(b.backend.localLease()); // the same lease again, as a renewal delivers it
        assertSame(peer, a.backend.encapsulation().peer(b.backend.publicKey()), "same peer object");
        assertSame(session, peer.current, "same session");
        pingAcross(a, b, "10.244.1.5", "10.244.2.7", 3);
        assertEquals(1, a.backend.peers().size());
    }

    @Test
    void persistentKeepaliveAndPresharedKeyComeFromTheNetConf() throws Exception {
        String psk = PresharedKey.generate().toBase64();
        Node a = new Node("wga", A, SUBNET_A, conf(psk, 25), WireGuardOptions.defaults());
        Node b = new Node("wgb", B, SUBNET_B, conf(psk, 25), WireGuardOptions.defaults());
        a.backend.addPeer(b.backend.localLease());
        b.backend.addPeer(a.backend.localLease());
        // With a keepalive interval, adding a peer sends a keepalive at once: the handshake starts
        // without any traffic, and both ends share the PSK, so it completes.
        WireGuardPeer peerOfA = a.backend.encapsulation().peer(b.backend.publicKey());
        await(peerOfA::hasSession, "a session from the keepalive alone");
        assertArrayEquals(PresharedKey.parse(psk).bytes(), peerOfA.presharedKey().bytes());
        assertEquals(Duration.ofSeconds(25).toNanos(), peerOfA.timers.persistentKeepaliveNanos());
        pingAcross(a, b, "10.244.1.5", "10.244.2.7", 3);
    }

    @Test
    void mismatchedPresharedKeysNeverMakeASession() throws Exception {
        Node a = new Node("wga", A, SUBNET_A, conf(PresharedKey.generate().toBase64(), 0), WireGuardOptions.defaults());
        Node b = new Node("wgb", B, SUBNET_B, conf(PresharedKey.generate().toBase64(), 0), WireGuardOptions.defaults());
        a.backend.addPeer(b.backend.localLease());
        b.backend.addPeer(a.backend.localLease());
        a.tun.inject(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 0));
        // B decrypts the initiation's static key, but the PSK enters only the response: A cannot open it.
        await(() -> a.stats().dropped(DropReason.WG_BAD_HANDSHAKE) > 0, "A refusing B's response");
        assertFalse(a.backend.encapsulation().peer(b.backend.publicKey()).hasSession());
        assertNull(b.tun.awaitWritten(Duration.ofMillis(200)));
    }

    @Test
    void leaseWithoutPortMeansOurListenPort() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        NoisePublicKey key = NoisePrivateKey.generate().publicKey();
        a.backend.addPeer(Lease.parse("{\"Subnet\":\"10.244.2.0/24\",\"PublicIP\":\"192.0.2.2\",\"BackendType\":\"wireguard\","
                + "\"BackendData\":{\"PublicKey\":\"" + key.toBase64() + "\"}}"));
        WireGuardPeer peer = a.backend.encapsulation().peer(key);
        assertEquals(B, peer.endpointAddress());
        assertEquals(a.backend.listenPort(), peer.endpointPort());
        assertEquals(List.of(SUBNET_B), peer.allowedIps());
        assertEquals(peer.id(), a.backend.routes().lookup(Ipv4Address.parse("10.244.2.9")));
    }

    @Test
    void leasesReplaceMoveAndRemovePeersAsFlanneldDoes() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        WireGuardDevice wg = a.backend.encapsulation();
        NoisePublicKey k1 = NoisePrivateKey.generate().publicKey();
        NoisePublicKey k2 = NoisePrivateKey.generate().publicKey();
        NoisePublicKey k3 = NoisePrivateKey.generate().publicKey();

        a.backend.addPeer(lease(SUBNET_B, B, k1));
        // Another key for the same subnet: the old peer goes.
        a.backend.addPeer(lease(SUBNET_B, B, k2));
        assertNull(wg.peer(k1));
        assertEquals(List.of(SUBNET_B), wg.peer(k2).allowedIps());
        // The same key with another subnet: its node took a new lease; the peer moves there.
        a.backend.addPeer(lease(SUBNET_C, B, k2));
        assertEquals(List.of(SUBNET_C), wg.peer(k2).allowedIps());
        assertEquals(RouteTable.NO_ROUTE, a.backend.routes().lookup(Ipv4Address.parse("10.244.2.1")));
        assertEquals(List.of(SUBNET_C), a.backend.peers().stream().map(Lease::subnet).toList());
        // A new key at the same endpoint under another subnet: that node restarted; the old peer goes.
        a.backend.addPeer(lease(SUBNET_B, B, k3));
        assertNull(wg.peer(k2));
        assertEquals(List.of(SUBNET_B), a.backend.peers().stream().map(Lease::subnet).toList());
        // Another endpoint: both stay.
        a.backend.addPeer(lease(SUBNET_C, C, k1));
        assertEquals(2, wg.peers().size());

        assertTrue(a.backend.removePeer(SUBNET_B));
        assertNull(wg.peer(k3));
        assertFalse(a.backend.removePeer(SUBNET_B));
        assertEquals(List.of(SUBNET_C), a.backend.peers().stream().map(Lease::subnet).toList());
    }

    private static Lease lease(Ipv4Prefix subnet, int publicIp, NoisePublicKey key) {
        return Lease.wireguard(subnet, publicIp, new WireguardLeaseData(key.toBase64(), 51820));
    }

    @Test
    void leasesThisNodeCannotTakeAreRefusedNamingTheField() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        NoisePublicKey key = NoisePrivateKey.generate().publicKey();
        a.backend.addPeer(lease(SUBNET_B, B, key));
        assertMessage("BackendType=vxlan", () -> a.backend.addPeer(Lease.parse(
                "{\"Subnet\":\"10.244.3.0/24\",\"PublicIP\":\"192.0.2.3\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"22:e8:35:88:1e:9a\"}}")));
        assertMessage("our own public key", () -> a.backend.addPeer(lease(SUBNET_C, C, a.backend.publicKey())));
        assertMessage("our own subnet: Subnet=10.244.1.0/24", () -> a.backend.addPeer(lease(SUBNET_A, C, NoisePrivateKey.generate().publicKey())));
        assertMessage("overlaps our own subnet", () -> a.backend.addPeer(lease(Ipv4Prefix.parse("10.244.1.128/25"), C,
                NoisePrivateKey.generate().publicKey())));
        assertMessage("overlaps peer 10.244.2.0/24", () -> a.backend.addPeer(lease(Ipv4Prefix.parse("10.244.2.0/25"), C,
                NoisePrivateKey.generate().publicKey())));
        assertMessage("outside the network", () -> a.backend.addPeer(lease(Ipv4Prefix.parse("10.245.0.0/24"), C,
                NoisePrivateKey.generate().publicKey())));
        assertEquals(1, a.backend.peers().size(), "refused leases changed nothing");
        a.backend.close();
        assertThrows(IllegalStateException.class, () -> a.backend.addPeer(lease(SUBNET_C, C, key)));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), "message " + e.getMessage() + " should contain " + expected);
    }

    @Test
    void openRefusesAnotherBackendTypeAndAPoolWithoutRoom() throws Exception {
        try (PacketPool pool = new PacketPool(16)) {
            ConfigException wrongType = assertThrows(ConfigException.class, () -> WireGuardBackend.open(
                    context("wgx", A, SUBNET_A, BackendConf.defaults(BackendType.VXLAN), pool), WireGuardOptions.defaults()));
            assertTrue(wrongType.getMessage().contains("not wireguard: vxlan"), wrongType.getMessage());
        }
        try (PacketPool small = new PacketPool(16, 1024, 64)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WireGuardBackend.open(
                    context("wgy", A, SUBNET_A, BackendConf.defaults(BackendType.WIREGUARD), small),
                    WireGuardOptions.defaults().withTransports(network::attach)));
            assertTrue(e.getMessage().contains("tunMtu=1420"), e.getMessage());
        }
    }

    @Test
    void theTimerThreadRetriesAnUnansweredHandshakeAndStopsOnClose() throws Exception {
        WireGuardTimings fast = new WireGuardTimings(1L << 60, -1L - (1L << 13), Duration.ofSeconds(120).toNanos(),
                Duration.ofSeconds(180).toNanos(), Duration.ofSeconds(30).toNanos(), Duration.ofMillis(150).toNanos(), 0,
                Duration.ofSeconds(10).toNanos(), Duration.ofSeconds(120).toNanos(), Duration.ofMillis(20).toNanos(),
                Duration.ofSeconds(1).toNanos());
        Node a = new Node("wga", A, SUBNET_A, BackendConf.defaults(BackendType.WIREGUARD), WireGuardOptions.defaults().withTimings(fast));
        // A silent peer: it counts initiations and never answers.
        PacketPool sinkPool = new PacketPool(64);
        FakeTransport silent = network.attach(B, 51820, sinkPool);
        AtomicInteger initiations = new AtomicInteger();
        silent.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                if (batch[i].length() == MessageType.INITIATION_LEN) initiations.incrementAndGet();
                batch[i].release();
            }
        });
        open.add(() -> {
            silent.close();
            sinkPool.close();
        });
        a.backend.addPeer(lease(SUBNET_B, B, NoisePrivateKey.generate().publicKey()));
        a.tun.inject(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, 0));
        await(() -> initiations.get() >= 4, "the first initiation and three retries 150 ms apart");
        Thread timer = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("wg-timer-wga")).findFirst().orElseThrow();
        a.close();
        open.remove(a);
        assertFalse(timer.isAlive(), "timer thread stopped by close");
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void closeReleasesPacketsStagedForAHandshakeThatNeverCame() throws Exception {
        Node a = node("wga", A, SUBNET_A);
        a.backend.addPeer(lease(SUBNET_B, B, NoisePrivateKey.generate().publicKey())); // nobody at B
        for (int i = 0; i < 10; i++) a.tun.inject(Ipv4Packets.icmpEcho("10.244.1.5", "10.244.2.7", 84, i));
        await(() -> a.backend.encapsulation().peers().get(0).stagedPackets() == 10, "ten packets staged");
        // Node.close (in @AfterEach) asserts the pool is whole: the staged ten came back.
    }
}
