package io.dataplane.tun.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.Leftovers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Named namespaces as {@code ip netns} sees them, and threads that enter them without leaking. */
class NetNamespaceTest {

    @BeforeEach
    void root() {
        Hosts.assumeRoot();
    }

    private static String currentNetns() throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
    }

    private static String netnsOf(NetNamespace ns) throws IOException {
        return "net:[" + Files.getAttribute(Path.of(ns.path()), "unix:ino") + "]";
    }

    @Test
    void createRunAndDeleteAsIpNetnsSeesThem() throws Exception {
        String name = Hosts.unique("dpns");
        String outside = currentNetns();
        Leftovers.Hold hold = Leftovers.namespace(name);
        NetNamespace ns = NetNamespace.create(name);
        try {
            assertTrue(NetNamespace.exists(name));
            assertTrue(Hosts.run("ip", "netns", "list").lines().anyMatch(l -> l.split(" ")[0].equals(name)));
            String inside = ns.call(NetNamespaceTest::currentNetns);
            assertEquals(netnsOf(ns), inside);
            assertNotEquals(outside, inside);
            assertEquals(outside, currentNetns(), "the calling thread left its namespace");
            // Only a loopback, down, as after ip netns add.
            String links = Hosts.run("ip", "-n", name, "-o", "link", "show");
            assertEquals(1, links.lines().count(), links);
            assertTrue(links.contains("lo:") && links.contains("state DOWN"), links);
        } finally {
            ns.delete();
            hold.release();
        }
        assertFalse(NetNamespace.exists(name));
        assertFalse(Hosts.run("ip", "netns", "list").lines().anyMatch(l -> l.split(" ")[0].equals(name)));
    }

    @Test
    void openJoinsAnExistingNamespaceAndNewThreadsEnterIt() throws Exception {
        try (Hosts hosts = new Hosts()) {
            NetNamespace created = hosts.namespace("dpns");
            try (NetNamespace opened = NetNamespace.open(created.name())) {
                assertEquals(netnsOf(created), opened.call(NetNamespaceTest::currentNetns));
                AtomicReference<String> seen = new AtomicReference<>();
                Thread t = opened.newThread("inside", () -> {
                    try {
                        seen.set(currentNetns());
                    } catch (IOException e) {
                        seen.set(e.toString());
                    }
                });
                t.start();
                t.join(5000);
                assertEquals(netnsOf(created), seen.get());
            }
        }
    }

    @Test
    void exceptionsOfTheWorkAreThrownToTheCaller() throws Exception {
        try (Hosts hosts = new Hosts()) {
            NetNamespace ns = hosts.namespace("dpns");
            IOException thrown = new IOException("from inside");
            assertSame(thrown, assertThrows(IOException.class, () -> ns.run(() -> {
                throw thrown;
            })));
            assertEquals(42, ns.call(() -> 42));
        }
    }

    @Test
    void duplicateAndMissingNamespacesAreNamed() throws Exception {
        try (Hosts hosts = new Hosts()) {
            NetNamespace ns = hosts.namespace("dpns");
            ErrnoException dup = assertThrows(ErrnoException.class, () -> NetNamespace.create(ns.name()));
            assertEquals(17, dup.errno());
            assertTrue(dup.getMessage().contains("/run/netns/" + ns.name()), dup.getMessage());
        }
        String missing = Hosts.unique("dpnone");
        ErrnoException e = assertThrows(ErrnoException.class, () -> NetNamespace.open(missing));
        assertEquals("open(/run/netns/" + missing + ") failed: errno=2 (ENOENT)", e.getMessage());
        assertEquals(2, assertThrows(ErrnoException.class, () -> NetNamespace.delete(missing)).errno());
        assertThrows(IllegalArgumentException.class, () -> NetNamespace.create("a/b"));
    }

    @Test
    void closedNamespaceRefusesWork() throws Exception {
        try (Hosts hosts = new Hosts()) {
            NetNamespace ns = hosts.namespace("dpns");
            ns.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ns.call(() -> 1));
            assertTrue(e.getMessage().contains(ns.name()), e.getMessage());
            assertTrue(NetNamespace.exists(ns.name()), "close keeps the namespace; delete removes it");
        }
    }
}
