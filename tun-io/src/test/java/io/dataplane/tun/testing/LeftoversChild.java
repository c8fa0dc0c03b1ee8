package io.dataplane.tun.testing;

import io.dataplane.tun.netns.NetNamespace;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The test JVM that {@link LeftoversTest} kills: {@code hold} makes a namespace (through {@link
 * Hosts}, with a {@code sleep} running inside it that nothing holds), a data directory and a
 * {@code sleep} process, all held in {@link Leftovers}; {@code hold-unprivileged} only the directory
 * and the process. It prints {@code ready NAMESPACE DIRECTORY PID NAMESPACE-PID} ({@code -} for
 * what it did not make) and waits to be killed. {@code next} is the next test JVM: its first hold
 * sweeps; it prints {@code swept} and exits.
 */
public final class LeftoversChild {
    private LeftoversChild() {}

    /** {@code hold}, {@code hold-unprivileged} or {@code next}. */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "hold", "hold-unprivileged" -> {
                String ns = "-";
                String nsPid = "-";
                if (args[0].equals("hold")) {
                    NetNamespace n = new Hosts().namespace("dplo");
                    ns = n.name();
                    nsPid = Long.toString(new ProcessBuilder("ip", "netns", "exec", ns, "sleep", "600").start().pid());
                }
                Path dir = Files.createTempDirectory("dplo");
                Leftovers.path(dir);
                Files.writeString(dir.resolve("data"), "state of a test\n");
                Process sleeper = new ProcessBuilder("sleep", "600").start();
                Leftovers.process(sleeper.toHandle());
                System.out.println("ready " + ns + " " + dir + " " + sleeper.pid() + " " + nsPid);
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
            }
            case "next" -> {
                Path dir = Files.createTempDirectory("dplo");
                Leftovers.deleteTree(dir, Leftovers.path(dir));
                System.out.println("swept");
            }
            default -> throw new IllegalArgumentException("mode: " + args[0] + " (hold, hold-unprivileged or next)");
        }
    }
}
