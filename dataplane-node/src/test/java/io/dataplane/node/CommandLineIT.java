package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.testing.Prerequisites;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ./dataplane} itself: {@code --help} for every command, {@code --version}, a missing
 * command, and the demo refused in one line to a user who is not root. No root needed, except to
 * become another user for the last.
 */
class CommandLineIT {
    private static final Duration RUN = Duration.ofSeconds(30);

    @ParameterizedTest
    @ValueSource(strings = {"", "node", "demo"})
    void everyCommandHasHelp(String command) throws Exception {
        List<String> args = new ArrayList<>();
        if (!command.isEmpty()) args.add(command);
        args.add("--help");
        Tool t = Cli.run(Cli.dataplane(args.toArray(String[]::new)), RUN);
        assertEquals(0, t.exitCode(), t.output());
        assertEquals("", t.stderr());
        String usage = t.stdout();
        assertContains(usage, "Usage: dataplane" + (command.isEmpty() ? "" : " " + command) + " [-hV] [--debug]");
        switch (command) {
            case "" -> {
                assertContains(usage, "  node  Runs one node from flannel's files in DIR or its etcd (root).");
                assertContains(usage, "  demo  Two nodes in two namespaces and traffic across the overlay (root).");
            }
            case "node" -> {
                assertContains(usage, "--config=DIR");
                assertContains(usage, "--public-ip=IP");
                assertContains(usage, "--tun=NAME");
                assertContains(usage, "--metrics-port=PORT");
                assertContains(usage, "peers.json");
                for (String etcd : List.of("--etcd-endpoints=URL[,URL...]", "--etcd-prefix=PREFIX", "--etcd-cafile=FILE", "--etcd-certfile=FILE",
                        "--etcd-keyfile=FILE", "--etcd-username=USER", "--etcd-password=PASSWORD", "--subnet-file=FILE",
                        "--subnet-lease-renew-margin=MINUTES", "--state-dir=DIR")) {
                    assertContains(usage, etcd);
                }
            }
            default -> {
                String supported = String.join(", ", OverlayNode.supportedBackends().stream().map(BackendType::flannelName).toList());
                assertContains(usage.replaceAll("\\s+", " "), "The backend both nodes run: " + supported + " in this build (default: vxlan).");
                assertContains(usage, "--seconds=N");
            }
        }
        for (String line : usage.lines().toList()) assertTrue(line.length() <= 80, "help line longer than 80: " + line);
    }

    @Test
    void versionNamesTheBuildTheJavaAndTheBackends() throws Exception {
        Tool t = Cli.run(Cli.dataplane("--version"), RUN);
        assertEquals(0, t.exitCode(), t.output());
        List<String> lines = t.stdout().lines().toList();
        assertEquals(3, lines.size(), t.stdout());
        assertTrue(lines.get(0).matches("dataplane \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), lines.get(0));
        // ./dataplane finds the JDK as ./mvnw does, so the same one that runs this test.
        assertTrue(lines.get(1).startsWith("Java " + Runtime.version() + " ("), lines.get(1));
        assertEquals("backends: " + String.join(", ", OverlayNode.supportedBackends().stream().map(BackendType::flannelName).toList()),
                lines.get(2));
    }

    @Test
    void noCommandIsOneLineAndExitCode2() throws Exception {
        Tool t = Cli.run(Cli.dataplane(), RUN);
        assertEquals(2, t.exitCode(), t.output());
        assertEquals(List.of("dataplane: missing command: demo, node or show (see dataplane --help)"), t.stderr().lines().toList());
    }

    @Test
    void demoSaysInOneLineThatItNeedsRoot(@TempDir Path tmp) throws Exception {
        ProcessBuilder b = Cli.dataplane("demo");
        if (ProcessHandle.current().info().user().orElse("").equals("root")) {
            Prerequisites.program("setpriv");
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            List<String> asNobody = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    Cli.readableCopy(tmp).toString(), "demo"));
            b.command(asNobody).directory(tmp.toFile());
        }
        Tool t = Cli.run(b, RUN);
        assertEquals(1, t.exitCode(), t.output());
        assertEquals(List.of("dataplane demo: needs root: it creates network namespaces, a veth pair and TUN devices (try: sudo"
                + " ./dataplane demo)"), t.stderr().lines().toList());
        assertEquals("", t.stdout());
    }

    /**
     * The jars the node runs from carry no signature: the JVM would verify a signed one at its first
     * class and keep its per-class digests on the heap for the node's life. BouncyCastle's provider,
     * signed as published, is among them, and still holds the same classes.
     */
    @Test
    void theNodesLibHoldsNoSignedJar() throws Exception {
        Path lib = Cli.root().resolve("dataplane-node/target/lib");
        List<Path> jars;
        try (var files = Files.list(lib)) {
            jars = files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
        assertTrue(jars.stream().anyMatch(j -> j.getFileName().toString().startsWith("bcprov-")), "no BouncyCastle in " + jars);
        for (Path jar : jars) {
            try (var zip = new ZipFile(jar.toFile())) {
                List<String> signatures = zip.stream().map(ZipEntry::getName)
                        .filter(n -> n.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)")).toList();
                assertEquals(List.of(), signatures, jar + " is signed");
                if (jar.getFileName().toString().startsWith("bcprov-")) {
                    assertTrue(zip.getEntry("org/bouncycastle/crypto/digests/Blake2sDigest.class") != null, jar + " lacks BLAKE2s");
                    try (var jf = new JarFile(jar.toFile())) {
                        assertTrue(jf.isMultiRelease(), jar + " is no longer a multi-release jar");
                    }
                }
            }
        }
    }
}
