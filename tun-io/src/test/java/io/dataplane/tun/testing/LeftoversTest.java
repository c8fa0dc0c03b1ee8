package io.dataplane.tun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.netns.NetNamespace;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A test JVM ({@link LeftoversChild}) that holds a namespace, a data directory and processes is
 * killed: after SIGTERM its shutdown hook has removed them; after SIGKILL they stay until the next
 * JVM's first hold sweeps them; a namespace whose owner lives (this JVM) and one without a record
 * stay; an owner directory named by a live PID with another start time counts as dead.
 */
class LeftoversTest {
    private final List<Child> children = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();
    private final List<Path> paths = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void cleanUp() throws IOException {
        for (Child c : children) {
            c.process.destroyForcibly();
            for (long pid : c.pids()) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            if (!c.namespace.equals("-")) namespaces.add(c.namespace);
            paths.add(c.directory);
        }
        for (Process p : processes) p.destroyForcibly();
        for (String ns : namespaces) if (NetNamespace.exists(ns)) NetNamespace.delete(ns);
        for (Path p : paths) Prerequisites.deleteTree(p);
    }

    @Test
    void sigtermRunsTheHookThatRemovesWhatTheJvmHeld() throws Exception {
        Hosts.assumeRoot();
        Child c = start("hold");
        assertHeld(c);
        c.process.destroy(); // SIGTERM, by the child's PID
        assertTrue(c.process.waitFor(30, TimeUnit.SECONDS), "child JVM still runs 30 s after SIGTERM: " + c.output());
        assertRemoved(c);
    }

    @Test
    void afterSigkillTheNextJvmSweepsOnlyWhatTheDeadOneHeld() throws Exception {
        Hosts.assumeRoot();
        try (Hosts mine = new Hosts()) {
            String live = mine.namespace("dplive").name(); // held by this JVM, which lives
            String unrecorded = Hosts.unique("dplnorec"); // made by no harness: nobody's to remove
            NetNamespace.create(unrecorded).close();
            namespaces.add(unrecorded);

            Child c = start("hold");
            assertHeld(c);
            c.process.destroyForcibly(); // SIGKILL: no hook runs
            assertTrue(c.process.waitFor(30, TimeUnit.SECONDS));
            assertTrue(NetNamespace.exists(c.namespace), "nothing runs in a JVM killed with SIGKILL");
            assertTrue(Files.exists(c.directory));
            assertTrue(Leftovers.alive(c.pid, c.pidStart));

            next();
            assertRemoved(c);
            assertTrue(NetNamespace.exists(live), "the namespace of a live owner stays");
            assertTrue(NetNamespace.exists(unrecorded), "a namespace without an owner record stays");
            assertTrue(Files.isDirectory(Leftovers.ownerDirectory()), "this JVM's records stay");
        }
    }

    @Test
    void anOwnerWhosePidNowBelongsToAnotherProcessIsSwept() throws Exception {
        long me = ProcessHandle.current().pid();
        Path dir = Files.createTempDirectory("dplo");
        paths.add(dir);
        Process sleeper = new ProcessBuilder("sleep", "600").start();
        processes.add(sleeper);
        long sleeperStart = Leftovers.startTime(sleeper.pid()).orElseThrow();
        // This JVM's PID with a start time it does not have: the record of an earlier process that had the PID.
        Path owner = Files.createDirectories(Leftovers.ROOT.resolve(Leftovers.ownerName(me, 1)));
        paths.add(owner);
        Leftovers.writeRecord(owner, "1", Leftovers.Kind.PATH, dir.toString());
        Leftovers.writeRecord(owner, "2", Leftovers.Kind.PROCESS, sleeper.pid() + " " + sleeperStart);

        next();
        assertFalse(Files.exists(dir), dir + " of the dead owner");
        assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "the dead owner's process still runs");
        assertFalse(Files.exists(owner));
        assertTrue(Files.isDirectory(Leftovers.ownerDirectory()), "this JVM's records stay");
    }

    @Test
    void sigkillWithoutRootLeavesNoDirectoryOrProcessAfterTheNextJvm() throws Exception {
        Child c = start("hold-unprivileged");
        assertHeld(c);
        c.process.destroyForcibly();
        assertTrue(c.process.waitFor(30, TimeUnit.SECONDS));
        assertTrue(Files.exists(c.directory));
        next();
        assertRemoved(c);
    }

    private void assertHeld(Child c) throws IOException {
        if (!c.namespace.equals("-")) {
            assertTrue(NetNamespace.exists(c.namespace), c.output());
            assertTrue(Hosts.run("ip", "netns", "pids", c.namespace).contains(Long.toString(c.namespacePid)), c.output());
        }
        assertTrue(Files.exists(c.directory.resolve("data")), c.output());
        assertTrue(Leftovers.alive(c.pid, c.pidStart), c.output());
        assertTrue(Files.isDirectory(Leftovers.ROOT.resolve(Leftovers.ownerName(c.process.pid(), c.start))), c.output());
    }

    private static void assertRemoved(Child c) {
        String why = "after the child JVM " + c.process.pid() + " ended:\n" + c.output();
        if (!c.namespace.equals("-")) {
            assertFalse(NetNamespace.exists(c.namespace), "namespace " + c.namespace + " " + why);
            assertFalse(Leftovers.startTime(c.namespacePid).isPresent(), "process " + c.namespacePid + " in the namespace " + why);
        }
        assertFalse(Files.exists(c.directory), c.directory + " " + why);
        assertFalse(Leftovers.alive(c.pid, c.pidStart), "held process " + c.pid + " " + why);
        assertFalse(Files.exists(Leftovers.ROOT.resolve(Leftovers.ownerName(c.process.pid(), c.start))), "owner directory " + why);
    }

    /** Runs the next test JVM to its end: its first hold sweeps. */
    private static void next() throws Exception {
        Process p = java("next").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("swept"), out);
    }

    private Child start(String mode) throws Exception {
        Process p = java(mode).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                for (String line; (line = lines.readLine()) != null; ) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.startsWith("ready ")) ready.complete(line);
                }
            } catch (IOException e) {
                // The child ended.
            }
            ready.complete(null);
        });
        String line;
        try {
            line = ready.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new AssertionError("child JVM not ready within 60 s: " + output);
        }
        if (line == null) throw new AssertionError("child JVM ended before it was ready: " + output);
        String[] f = line.split(" ");
        long pid = Long.parseLong(f[3]);
        Child c = new Child(p, Leftovers.startTime(p.pid()).orElseThrow(), f[1], Path.of(f[2]), pid, Leftovers.startTime(pid).orElseThrow(),
                f[4].equals("-") ? -1 : Long.parseLong(f[4]), output);
        children.add(c);
        return c;
    }

    private static ProcessBuilder java(String mode) {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"), "-cp", System.getProperty("java.class.path"),
                LeftoversChild.class.getName(), mode);
    }

    /** A child JVM that holds things, what it made, and its output. */
    private record Child(Process process, long start, String namespace, Path directory, long pid, long pidStart, long namespacePid,
            StringBuilder outputSoFar) {
        String output() {
            synchronized (outputSoFar) {
                return outputSoFar.toString();
            }
        }

        List<Long> pids() {
            return namespacePid < 0 ? List.of(pid) : List.of(pid, namespacePid);
        }
    }
}
