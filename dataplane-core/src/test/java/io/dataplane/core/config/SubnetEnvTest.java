package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** subnet.env: flannel's format both ways, and every way it can be wrong. */
class SubnetEnvTest {
    private static final String FILE = "/run/flannel/subnet.env";

    /** The file flanneld writes in flannel's Documentation/running.md. */
    private static final String FLANNEL_EXAMPLE = """
            FLANNEL_NETWORK=10.5.0.0/16
            FLANNEL_SUBNET=10.5.72.1/24
            FLANNEL_MTU=1450
            FLANNEL_IPMASQ=false
            """;

    private static ConfigException fails(String text) {
        return assertThrows(ConfigException.class, () -> SubnetEnv.parse(text.getBytes(StandardCharsets.UTF_8), FILE));
    }

    @Test
    void readsWhatFlanneldWrites() {
        SubnetEnv env = SubnetEnv.parse(FLANNEL_EXAMPLE);
        assertEquals(new SubnetEnv(Ipv4Prefix.parse("10.5.0.0/16"), Ipv4Prefix.parse("10.5.72.0/24"), 1450, false), env);
        assertEquals("10.5.72.1", Ipv4Address.toString(env.firstAddress()));
    }

    @Test
    void writesWhatFlanneldWrites() {
        assertEquals(FLANNEL_EXAMPLE, SubnetEnv.parse(FLANNEL_EXAMPLE).format(), "FLANNEL_SUBNET as the first address, as flanneld");
    }

    @Test
    void acceptsTheNetworkAddressForm() {
        SubnetEnv env = SubnetEnv.parse("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.0/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
        assertEquals(Ipv4Prefix.parse("10.244.1.0/24"), env.subnet());
        assertTrue(env.ipMasq());
    }

    @Test
    void dotenvSyntaxAndOtherKeys() {
        SubnetEnv env = SubnetEnv.parse("""
                # written by hand
                export FLANNEL_NETWORK="10.42.0.0/16"
                FLANNEL_SUBNET='10.42.0.1/24'
                FLANNEL_IPV6_NETWORK=2001:cafe:42::/56
                FLANNEL_IPV6_SUBNET=2001:cafe:42::1/64
                FLANNEL_MTU=1450 # vxlan on a 1500 underlay
                FLANNEL_IPMASQ=True\r
                """);
        assertEquals(new SubnetEnv(Ipv4Prefix.parse("10.42.0.0/16"), Ipv4Prefix.parse("10.42.0.0/24"), 1450, true), env);
    }

    @Test
    void mtuAndIpMasqAreOptional() {
        SubnetEnv env = SubnetEnv.parse("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24");
        assertEquals(0, env.mtu());
        assertFalse(env.ipMasq());
        assertEquals("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_IPMASQ=false\n", env.format());
    }

    @Test
    void writeIsAtomicCreatesTheDirectoryAndReadsBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run/flannel/subnet.env");
        SubnetEnv env = new SubnetEnv(Ipv4Prefix.parse("10.244.0.0/16"), Ipv4Prefix.parse("10.244.7.0/24"), 1450, true);
        env.write(file);
        assertEquals(env, SubnetEnv.read(file));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        SubnetEnv next = new SubnetEnv(env.network(), Ipv4Prefix.parse("10.244.8.0/24"), 1400, false);
        next.write(file);
        assertEquals(next, SubnetEnv.read(file));
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void writeThroughASymbolicLinkKeepsTheLinkAndReplacesItsFile(@TempDir Path dir) throws Exception {
        Path real = dir.resolve("real/subnet.env");
        SubnetEnv env = new SubnetEnv(Ipv4Prefix.parse("10.244.0.0/16"), Ipv4Prefix.parse("10.244.7.0/24"), 1450, true);
        env.write(real);
        Path link = Files.createSymbolicLink(dir.resolve("subnet.env"), real);
        SubnetEnv next = new SubnetEnv(env.network(), Ipv4Prefix.parse("10.244.8.0/24"), 1400, false);
        next.write(link);
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertEquals(real, Files.readSymbolicLink(link));
        assertEquals(next, SubnetEnv.read(real));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "the link and real/, no temporary file");
        }
        try (Stream<Path> files = Files.list(real.getParent())) {
            assertEquals(1, files.count(), "no temporary file beside the real file");
        }
    }

    @Test
    void writeIntoACharacterDeviceLeavesItADevice(@TempDir Path dir) throws Exception {
        // A null device of our own (c 1 3) stands for /dev/null, so that a product that renamed over
        // it would replace a node in the test's directory, not the machine's /dev/null.
        Prerequisites.require("root".equals(System.getProperty("user.name")), "needs root: makes a device node with mknod");
        Prerequisites.program("mknod");
        Path device = dir.resolve("null");
        run("mknod", "-m", "666", device.toString(), "c", "1", "3");
        Path link = Files.createSymbolicLink(dir.resolve("subnet.env"), device);
        SubnetEnv env = new SubnetEnv(Ipv4Prefix.parse("10.244.0.0/16"), Ipv4Prefix.parse("10.244.7.0/24"), 1450, true);
        env.write(device);
        env.write(link);
        assertEquals(0020000, (Integer) Files.getAttribute(device, "unix:mode") & 0170000, "still a character device");
        assertEquals(0x0103L, ((Long) Files.getAttribute(device, "unix:rdev")) & 0xFFFFL, "still 1:3");
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "the device and the link, no temporary file");
        }
    }

    @Test
    void refusesToReplaceAFifoOrADirectory(@TempDir Path dir) throws Exception {
        Prerequisites.program("mkfifo");
        Path fifo = dir.resolve("fifo");
        run("mkfifo", fifo.toString());
        SubnetEnv env = new SubnetEnv(Ipv4Prefix.parse("10.244.0.0/16"), Ipv4Prefix.parse("10.244.7.0/24"), 1450, true);
        assertEquals(fifo + ": not a regular file but a FIFO: it is written by renaming a new file over it, which would replace " + fifo,
                assertThrows(ConfigException.class, () -> env.write(fifo)).getMessage());
        assertEquals(0010000, (Integer) Files.getAttribute(fifo, "unix:mode") & 0170000, "still a FIFO");
        Path directory = Files.createDirectory(dir.resolve("subnet.env"));
        assertEquals(directory + ": not a regular file but a directory: it is written by renaming a new file over it, which would replace "
                + directory, assertThrows(ConfigException.class, () -> env.write(directory)).getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "the FIFO and the directory, no temporary file");
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path file = dir.resolve("subnet.env");
        assertEquals(file + ": file not found", assertThrows(ConfigException.class, () -> SubnetEnv.read(file)).getMessage());
    }

    @Test
    void networkMissing() {
        assertEquals(FILE + ": FLANNEL_NETWORK: missing", fails("FLANNEL_SUBNET=10.244.1.1/24\n").getMessage());
    }

    @Test
    void subnetMissing() {
        assertEquals(FILE + ": FLANNEL_SUBNET: missing", fails("FLANNEL_NETWORK=10.244.0.0/16\n").getMessage());
    }

    @Test
    void lineWithoutEquals() {
        assertEquals(FILE + ": line 2: expected KEY=VALUE, got \"FLANNEL_SUBNET 10.244.1.1/24\"",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET 10.244.1.1/24\n").getMessage());
    }

    @Test
    void badVariableName() {
        assertEquals(FILE + ": line 1: not a variable name: \"FLANNEL-NETWORK\"", fails("FLANNEL-NETWORK=10.244.0.0/16\n").getMessage());
    }

    @Test
    void keyGivenTwice() {
        assertEquals(FILE + ": FLANNEL_MTU: FLANNEL_MTU given twice: on line 3 and line 4",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_MTU=1400\n").getMessage());
    }

    @Test
    void unterminatedQuote() {
        assertEquals(FILE + ": line 1: unterminated quote: \"\\\"10.244.0.0/16\"", fails("FLANNEL_NETWORK=\"10.244.0.0/16\n").getMessage());
    }

    @Test
    void networkNotAPrefix() {
        assertEquals(FILE + ": FLANNEL_NETWORK: prefix has host bits set: \"10.244.0.1/16\" (did you mean 10.244.0.0/16?)",
                fails("FLANNEL_NETWORK=10.244.0.1/16\nFLANNEL_SUBNET=10.244.1.1/24\n").getMessage());
    }

    @Test
    void subnetWithoutLength() {
        assertEquals(FILE + ": FLANNEL_SUBNET: expected address/length like 10.244.1.1/24, got \"10.244.1.1\"",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1\n").getMessage());
    }

    @Test
    void subnetBadAddress() {
        assertEquals(FILE + ": FLANNEL_SUBNET: not an IPv4 address: \"10.244.1.256\"",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.256/24\n").getMessage());
    }

    @Test
    void subnetBadLength() {
        assertEquals(FILE + ": FLANNEL_SUBNET: bad prefix length: \"10.244.1.1/33\" (0-32)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/33\n").getMessage());
        assertEquals(FILE + ": FLANNEL_SUBNET: bad prefix length: \"10.244.1.1/024\" (0-32)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/024\n").getMessage());
        assertEquals(FILE + ": FLANNEL_SUBNET: bad prefix length: \"10.244.1.1/08\" (0-32)",
                fails("FLANNEL_NETWORK=10.0.0.0/7\nFLANNEL_SUBNET=10.244.1.1/08\n").getMessage());
    }

    @Test
    void subnetOutsideTheNetwork() {
        assertEquals(FILE + ": FLANNEL_SUBNET: subnet outside the network: 10.245.1.0/24 is not a subnet of 10.244.0.0/16 (FLANNEL_NETWORK)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.245.1.1/24\n").getMessage());
    }

    @Test
    void subnetAsLargeAsTheNetwork() {
        assertEquals(FILE + ": FLANNEL_SUBNET: subnet outside the network: 10.244.0.0/16 is not a subnet of 10.244.0.0/16 (FLANNEL_NETWORK)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/16\n").getMessage());
    }

    @Test
    void subnetTooSmall() {
        assertEquals(FILE + ": FLANNEL_SUBNET: subnet too small: 10.244.1.0/31 (at most /30: it needs a gateway and a host)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/31\n").getMessage());
    }

    @Test
    void mtuNotANumber() {
        assertEquals(FILE + ": FLANNEL_MTU: not a number: \"1450b\"",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450b\n").getMessage());
    }

    @Test
    void mtuOutOfRange() {
        assertEquals(FILE + ": FLANNEL_MTU: MTU out of range: mtu=67 (68-65535)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=67\n").getMessage());
        assertEquals(FILE + ": FLANNEL_MTU: MTU out of range: mtu=65536 (68-65535)",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=65536\n").getMessage());
    }

    @Test
    void ipMasqNotABoolean() {
        assertEquals(FILE + ": FLANNEL_IPMASQ: expected true or false, got \"yes\"",
                fails("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPMASQ=yes\n").getMessage());
    }
}
