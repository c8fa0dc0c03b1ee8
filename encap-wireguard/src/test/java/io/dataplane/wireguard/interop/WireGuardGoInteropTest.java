package io.dataplane.wireguard.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.wireguard.NoisePrivateKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our WireGuard against wireguard-go (Debian's userspace build) configured with {@code wg}, each in
 * a network namespace of its own, joined by a veth pair (198.51.100.1 wireguard-go, 198.51.100.2
 * ours). Our side runs in a child JVM started with {@code ip netns exec} so its UDP socket lives in
 * the namespace ({@link InteropPeerMain}); nothing leaves the namespaces the test creates.
 *
 * <ul>
 *   <li>our initiation is accepted by wireguard-go, and hand-built ICMP echo requests to its tunnel
 *       address come back as echo replies from its kernel, through the tunnel;
 *   <li>wireguard-go's initiation (started by a real {@code ping} in its namespace) is accepted by
 *       us, and we answer the pings through the tunnel.
 * </ul>
 *
 * Root only (namespaces, /dev/net/tun); skipped with the reason when wireguard-go or wg is missing.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WireGuardGoInteropTest {
    private static final String GO_UNDERLAY = "198.51.100.1";
    private static final String OUR_UNDERLAY = "198.51.100.2";
    private static final String GO_TUNNEL = "10.244.1.1";
    private static final String OUR_TUNNEL = "10.244.2.2";
    private static final int PORT = 51820;

    private String suffix;
    private String nsGo;
    private String nsOurs;
    private String ifName;
    private Path goKeyFile;
    private Process wireguardGo;
    private Process child;
    private NoisePrivateKey ourKey;
    private String goPublicKey;
    private final List<String> cleanupErrors = new ArrayList<>();

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private static boolean isRoot() {
        try {
            return "0".equals(run(null, "id", "-u").strip());
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs a command to completion; throws with its output when it fails. */
    private static String run(String input, String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (input != null) p.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", cmd));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd));
        }
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
        return out;
    }

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(onPath("wireguard-go"), "wireguard-go is not installed");
        assumeTrue(onPath("wg"), "wg (wireguard-tools) is not installed");
        assumeTrue(onPath("ip"), "ip (iproute2) is not installed");
        assumeTrue(isRoot(), "needs root for network namespaces");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun");

        suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        nsGo = "wgigo" + suffix;
        nsOurs = "wgius" + suffix;
        ifName = "wgi" + suffix; // unique: wireguard-go's control socket lives in /var/run/wireguard, shared by all namespaces
        String vGo = "wva" + suffix;
        String vOurs = "wvb" + suffix;
        run(null, "ip", "netns", "add", nsGo);
        run(null, "ip", "netns", "add", nsOurs);
        run(null, "ip", "link", "add", vGo, "type", "veth", "peer", "name", vOurs);
        run(null, "ip", "link", "set", vGo, "netns", nsGo);
        run(null, "ip", "link", "set", vOurs, "netns", nsOurs);
        run(null, "ip", "-n", nsGo, "addr", "add", GO_UNDERLAY + "/24", "dev", vGo);
        run(null, "ip", "-n", nsOurs, "addr", "add", OUR_UNDERLAY + "/24", "dev", vOurs);
        for (String[] nsDev : new String[][] {{nsGo, vGo}, {nsOurs, vOurs}, {nsGo, "lo"}, {nsOurs, "lo"}}) {
            run(null, "ip", "-n", nsDev[0], "link", "set", nsDev[1], "up");
        }

        wireguardGo = new ProcessBuilder("ip", "netns", "exec", nsGo, "wireguard-go", "-f", ifName)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        for (int i = 0; i < 100 && !run(null, "ip", "-n", nsGo, "link", "show").contains(ifName); i++) Thread.sleep(50);

        ourKey = NoisePrivateKey.generate();
        String goKey = run(null, "wg", "genkey").strip();
        goPublicKey = run(goKey + "\n", "wg", "pubkey").strip();
        goKeyFile = Files.createTempFile("wgi-" + suffix, ".key", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(goKeyFile, goKey + "\n");
        run(null, "ip", "netns", "exec", nsGo, "wg", "set", ifName, "private-key", goKeyFile.toString(), "listen-port",
                String.valueOf(PORT), "peer", ourKey.publicKey().toBase64(), "allowed-ips", "10.244.2.0/24", "endpoint",
                OUR_UNDERLAY + ":" + PORT);
        run(null, "ip", "-n", nsGo, "addr", "add", GO_TUNNEL + "/24", "dev", ifName);
        run(null, "ip", "-n", nsGo, "link", "set", ifName, "up");
        run(null, "ip", "-n", nsGo, "route", "add", "10.244.2.0/24", "dev", ifName);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        if (wireguardGo != null) {
            wireguardGo.destroy(); // SIGTERM: wireguard-go removes its interface and control socket
            if (!wireguardGo.waitFor(10, TimeUnit.SECONDS)) wireguardGo.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (String ns : new String[] {nsGo, nsOurs}) {
            if (ns == null) continue;
            try {
                run(null, "ip", "netns", "del", ns); // takes the veth pair with it
            } catch (IOException e) {
                cleanupErrors.add(e.getMessage());
            }
        }
        if (goKeyFile != null) Files.deleteIfExists(goKeyFile);
        assertTrue(cleanupErrors.isEmpty(), "cleanup: " + cleanupErrors);
    }

    private Process startOurSide(String mode) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", nsOurs, java.toString(),
                "--enable-native-access=ALL-UNNAMED", "-Ddataplane.buffer.checked=true",
                "-cp", System.getProperty("java.class.path"), InteropPeerMain.class.getName(),
                mode, OUR_UNDERLAY, String.valueOf(PORT), goPublicKey, GO_UNDERLAY, String.valueOf(PORT), OUR_TUNNEL, GO_TUNNEL);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().write((ourKey.toBase64() + "\n").getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        return p;
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(40, TimeUnit.SECONDS), "our side did not finish: " + out);
        return out;
    }

    @Test
    void ourInitiationIsAcceptedAndPingsComeBackThroughTheTunnel() throws Exception {
        child = startOurSide("initiate");
        String out = finish(child);
        assertEquals(0, child.exitValue(), "our side: " + out);
        assertTrue(out.contains("HANDSHAKE") && out.contains("ECHO-REPLY"), out);
        String handshakes = run(null, "ip", "netns", "exec", nsGo, "wg", "show", ifName, "latest-handshakes");
        assertTrue(handshakes.contains(ourKey.publicKey().toBase64()) && !handshakes.strip().endsWith("\t0"),
                "wireguard-go saw the handshake: " + handshakes);
    }

    @Test
    void wireguardGoInitiationIsAcceptedAndWeAnswerItsPings() throws Exception {
        child = startOurSide("respond");
        // wait until our socket is bound before wireguard-go sends its initiation
        String first = new String(child.getInputStream().readNBytes(6), StandardCharsets.US_ASCII);
        assertEquals("READY ", first);
        String ping = run(null, "ip", "netns", "exec", nsGo, "ping", "-c", "3", "-i", "0.5", "-W", "5", OUR_TUNNEL);
        assertTrue(ping.contains("3 received"), ping);
        String out = finish(child);
        assertEquals(0, child.exitValue(), "our side: " + out);
        assertTrue(out.contains("ECHO-ANSWERED"), out);
    }
}
