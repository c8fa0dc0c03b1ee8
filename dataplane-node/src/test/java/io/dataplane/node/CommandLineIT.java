package io.dataplane.node;

import static io.dataplane.node.Cli.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
     * The launcher's JVM options and its ahead-of-time cache, in a copy of its own (its own
     * target/aot): the first {@code node} run records, the second makes the cache and the third
     * maps it, the node's classes from it; the JVM runs with the launcher's sizing; other options
     * make a cache of their own.
     */
    @Test
    void theLauncherSizesTheJvmAndMakesItsAheadOfTimeCacheForItsOptions(@TempDir Path tmp) throws Exception {
        Path copy = Cli.readableCopy(tmp);
        Path aot = tmp.resolve("dataplane-node/target/aot");
        Tool first = Cli.run(launch(copy, null, null), RUN);
        assertEquals(0, first.exitCode(), first.output());
        assertContains(first.stdout(), "--config=DIR");
        if (Runtime.version().feature() < 25) { // the launcher finds the JDK the tests run on
            assertEquals(List.of(), files(aot, ""), "an AOT cache before JDK 25");
            return;
        }
        assertEquals(List.of(), files(aot, ".aot"), "no cache after the first run");
        assertEquals(1, files(aot, ".aotconf").size(), "the first run records");

        Tool second = Cli.run(launch(copy, null, null), RUN);
        assertEquals(0, second.exitCode(), second.output());
        assertEquals("", second.stderr());
        List<String> caches = files(aot, ".aot");
        assertEquals(1, caches.size(), "the second run makes the cache");
        assertEquals(List.of(), files(aot, ".aotconf"), "its recording is used up");

        // JAVA_TOOL_OPTIONS: seen by the JVM, not part of the launcher's options (nor of the cache's name).
        Tool third = Cli.run(launch(copy, null, "-XX:+PrintCommandLineFlags -Xlog:class+load=info"), RUN);
        assertEquals(0, third.exitCode(), third.output());
        String flags = third.stdout().lines().filter(l -> l.contains("-XX:+UseSerialGC")).findFirst().orElse("");
        for (String option : List.of("-XX:+UseSerialGC", "-XX:InitialHeapSize=8388608", "-XX:MaxHeapSize=268435456",
                "-XX:MaxNewSize=2097152", "-XX:-TieredCompilation", "-XX:TrimNativeHeapInterval=5000")) {
            assertContains(flags, option);
        }
        assertTrue(third.stdout().lines().anyMatch(l -> l.contains(" io.dataplane.node.cli.Dataplane source: shared objects file")),
                "the node's main class does not come from the cache:\n" + third.stdout());
        assertEquals(caches, files(aot, ".aot"));

        Tool other = Cli.run(launch(copy, "-Xmx200m", null), RUN);
        assertEquals(0, other.exitCode(), other.output());
        assertEquals(1, files(aot, ".aotconf").size(), "other options record a cache of their own");
        assertEquals(caches, files(aot, ".aot"), "and leave the first");

        // A node's backend, as its --config DIR's net-conf.json names it (any case, any layout), names a cache of its own.
        Path config = Files.createDirectories(tmp.resolve("config"));
        Files.writeString(config.resolve("net-conf.json"), "{\n  \"Network\": \"10.244.0.0/16\",\n  \"Backend\": {\n    \"Type\" : \"WireGuard\"\n  }\n}\n");
        Tool wireguard = Cli.run(launch(copy, null, null, "--config", config.toString()), RUN);
        assertEquals(0, wireguard.exitCode(), wireguard.output());
        List<String> recordings = files(aot, "-wireguard." + wireguard.pid() + ".aotconf");
        assertEquals(1, recordings.size(), "a wireguard node records a cache of its own: " + files(aot, ""));
        assertTrue(recordings.get(0).startsWith(caches.get(0).replace(".aot", "-wireguard.")),
                "the same jar, JDK and options as the first: " + recordings + " against " + caches);
        Tool wireguardAgain = Cli.run(launch(copy, null, null, "--config=" + config), RUN);
        assertEquals(0, wireguardAgain.exitCode(), wireguardAgain.output());
        assertEquals(List.of(caches.get(0).replace(".aot", "-wireguard.aot")), files(aot, "-wireguard.aot"), "and makes it");
        assertTrue(files(aot, ".aot").containsAll(caches), "beside the first: " + files(aot, ".aot"));

        // A backend the build does not have (a typo) records nothing that no later start would use up.
        Path typo = netConf(tmp.resolve("typo"), "vxlam");
        Tool mistyped = Cli.run(launch(copy, null, null, "--config", typo.toString()), RUN);
        assertEquals(0, mistyped.exitCode(), mistyped.output());
        assertTrue(files(aot, "").stream().noneMatch(f -> f.contains("-vxlam")), "a recording for an unknown backend: " + files(aot, ""));
    }

    /**
     * The Vector API's module only where WireGuard may run: with {@code --add-modules} the JDK
     * keeps an AOT cache's classes loaded but not linked. A vxlan node's JVM resolves no incubator
     * module and maps a cache of linked classes; a wireguard node's JVM has the module.
     */
    @Test
    void onlyAWireguardNodeTakesTheVectorModuleAndAVxlanNodeMapsLinkedClasses(@TempDir Path tmp) throws Exception {
        Path copy = Cli.readableCopy(tmp);
        Path vxlan = netConf(tmp.resolve("vxlan"), "vxlan");
        Path wireguard = netConf(tmp.resolve("wireguard"), "WireGuard");
        Tool v = Cli.run(launch(copy, null, "-Xlog:module+load=info", "--config", vxlan.toString()), RUN);
        assertEquals(0, v.exitCode(), v.output());
        assertTrue(v.stdout().lines().anyMatch(l -> l.contains("java.base location:")), "no module log:\n" + v.stdout());
        assertFalse(v.stdout().contains("jdk.incubator.vector"), "a vxlan node with the Vector API's module:\n" + v.stdout());
        Tool w = Cli.run(launch(copy, null, "-Xlog:module+load=info", "--config", wireguard.toString()), RUN);
        assertEquals(0, w.exitCode(), w.output());
        assertTrue(w.stdout().lines().anyMatch(l -> l.contains("jdk.incubator.vector location:")),
                "a wireguard node without the Vector API's module:\n" + w.stdout());
        if (Runtime.version().feature() < 25) return; // no AOT cache before JDK 25 (the other test checks there is none)

        // Options of their own (so a cache of their own): the first run records, the second makes the cache and maps it.
        Tool records = Cli.run(launch(copy, "-Xlog:aot=info", null, "--config", vxlan.toString()), RUN);
        assertEquals(0, records.exitCode(), records.output());
        Tool maps = Cli.run(launch(copy, "-Xlog:aot=info", null, "--config", vxlan.toString()), RUN);
        assertEquals(0, maps.exitCode(), maps.output());
        assertContains(maps.stdout(), "Using AOT-linked classes: true");
    }

    private static Path netConf(Path dir, String type) throws java.io.IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("net-conf.json"), "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + type + "\"}}\n");
        return dir;
    }

    // The launcher copy's `node --help` (after more node arguments, when given), with DATAPLANE_JAVA_OPTS and JAVA_TOOL_OPTIONS when not null.
    private static ProcessBuilder launch(Path copy, String javaOpts, String toolOptions, String... nodeArgs) {
        List<String> command = new ArrayList<>(List.of(copy.toString(), "node"));
        command.addAll(List.of(nodeArgs));
        command.add("--help");
        ProcessBuilder b = new ProcessBuilder(command).directory(copy.getParent().toFile());
        b.environment().put("DATAPLANE_SKIP_BUILD", "1");
        b.environment().remove("DATAPLANE_JAVA_OPTS");
        b.environment().remove("DATAPLANE_AOT");
        if (javaOpts != null) b.environment().put("DATAPLANE_JAVA_OPTS", javaOpts);
        if (toolOptions != null) b.environment().put("JAVA_TOOL_OPTIONS", toolOptions);
        return b;
    }

    // Names of the files in dir that end with suffix, sorted; none when dir is missing.
    private static List<String> files(Path dir, String suffix) throws java.io.IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (var list = Files.list(dir)) {
            return list.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
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
