package io.dataplane.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.tun.sys.Errno;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What is refused before any system call, and how errors read: runs without root. */
class ArgumentCheckTest {

    @Test
    void interfaceNamesFollowTheKernelsRules() {
        assertEquals("flannel.1", InterfaceName.check("flannel.1"));
        assertEquals("a23456789012345", InterfaceName.check("a23456789012345"));
        assertEquals("interface name too long: \"a234567890123456\" (16 bytes, max 15)",
                assertThrows(IllegalArgumentException.class, () -> InterfaceName.check("a234567890123456")).getMessage());
        // Bytes, not characters: 8 two-byte characters are 16 bytes.
        assertTrue(assertThrows(IllegalArgumentException.class, () -> InterfaceName.check("éééééééé")).getMessage().contains("16 bytes"));
        for (String bad : new String[] {"", ".", "..", "a/b", "a:b", "a b", "a\tb"}) {
            assertThrows(IllegalArgumentException.class, () -> InterfaceName.check(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> InterfaceName.check(null));
    }

    @Test
    void errnoMessagesNameCallErrnoAndHint() {
        assertEquals("ioctl(TUNSETIFF, tun0) failed: errno=1 (EPERM): needs root or CAP_NET_ADMIN",
                Errno.exception("ioctl(TUNSETIFF, tun0)", Errno.EPERM).getMessage());
        assertEquals("read(tun0) failed: errno=77 (EBADFD): the device was removed", Errno.exception("read(tun0)", 77).getMessage());
        assertEquals("open(/x) failed: errno=2 (ENOENT)", Errno.exception("open(/x)", 2).getMessage());
        ErrnoException e = new ErrnoException("RTM_NEWROUTE 10.244.2.0/24 dev flannel.1", 17);
        assertEquals(17, e.errno());
        assertEquals("EEXIST", e.errnoName());
        assertEquals("RTM_NEWROUTE 10.244.2.0/24 dev flannel.1", e.call());
        assertEquals("errno 4000", Errno.name(4000));
        assertEquals("ENODEV", Errno.name(Errno.ENODEV));
    }

    @Test
    void offloadCombinationsTheKernelRefusesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.CSUM, TunOffload.USO4)));
        assertTrue(e.getMessage().contains("USO4 only together with USO6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TunOptions.defaults().withVnetHeader(EnumSet.of(TunOffload.TSO4)));
        assertTrue(e.getMessage().contains("need CSUM"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TunOptions(32, false, Set.of(TunOffload.CSUM)));
        assertTrue(e.getMessage().contains("vnetHeader=false"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TunOptions.defaults().withBatchSize(0));
        assertEquals("TUN batch size out of range: batchSize=0 (1-1024)", e.getMessage());
        assertEquals(0x01 | 0x20 | 0x40, TunOffload.flags(EnumSet.of(TunOffload.CSUM, TunOffload.USO4, TunOffload.USO6)));
        TunOffload.validate(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, TunOffload.TSO_ECN));
    }
}
