package io.dataplane.tun.sys;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.tun.ErrnoException;
import org.junit.jupiter.api.Test;

/** The one errno classifier: what each errno means for a receive, a send and a blocking call, and what an error names. */
class ErrnoTest {
    @Test
    void outcomesOfTheErrnosThatAreNoErrors() {
        assertEquals(Errno.Outcome.RETRY, Errno.outcome(Errno.EINTR));
        assertEquals(Errno.Outcome.AGAIN, Errno.outcome(Errno.EAGAIN));
        assertEquals(Errno.Outcome.CLOSED, Errno.outcome(Errno.EBADF));
        for (int e : new int[] {Errno.EPERM, Errno.EIO, Errno.EINVAL, Errno.EBADFD, Errno.EMSGSIZE, Errno.ENOBUFS, Errno.ENETUNREACH, 0, 4095}) {
            assertEquals(Errno.Outcome.FAILED, Errno.outcome(e), Errno.name(e));
        }
    }

    @Test
    void ioResultReturnsAgainRetryAndClosedAndThrowsForTheRest() throws Exception {
        assertEquals(Errno.Outcome.AGAIN, Errno.ioResult("recvmmsg", "UdpSocket[127.0.0.1:4789]", Errno.EAGAIN));
        assertEquals(Errno.Outcome.RETRY, Errno.ioResult("recvmmsg", "UdpSocket[127.0.0.1:4789]", Errno.EINTR));
        assertEquals(Errno.Outcome.CLOSED, Errno.ioResult("recvmmsg", "UdpSocket[127.0.0.1:4789]", Errno.EBADF));
        ErrnoException e = assertThrows(ErrnoException.class, () -> Errno.ioResult("read", "tun7", Errno.EBADFD));
        assertEquals("read(tun7) failed: errno=77 (EBADFD): the device was removed", e.getMessage());
        assertEquals(Errno.EBADFD, e.errno());
        assertEquals("read(tun7)", e.call());
    }

    @Test
    void sendResultSkipsARefusedPacketAndThrowsOnlyForAnUnusableDescriptor() throws Exception {
        assertEquals(Errno.Outcome.FAILED, Errno.sendResult("sendmmsg", "raw IP protocol 4", Errno.EMSGSIZE));
        assertEquals(Errno.Outcome.FAILED, Errno.sendResult("write", "tun7", Errno.EIO));
        assertEquals(Errno.Outcome.AGAIN, Errno.sendResult("write", "tun7", Errno.EAGAIN));
        assertEquals(Errno.Outcome.CLOSED, Errno.sendResult("write", "tun7", Errno.EBADF));
        ErrnoException e = assertThrows(ErrnoException.class, () -> Errno.sendResult("writev", "tun7", Errno.EBADFD));
        assertEquals("writev(tun7)", e.call());
    }

    @Test
    void blockingCallsRetryOnlyAfterASignal() {
        assertDoesNotThrow(() -> Errno.retryOrThrow("poll", "TUN tun7", Errno.EINTR));
        ErrnoException e = assertThrows(ErrnoException.class, () -> Errno.retryOrThrow("recv", "netlink, RTM_NEWROUTE", Errno.EPERM));
        assertEquals("recv(netlink, RTM_NEWROUTE) failed: errno=1 (EPERM): needs root or CAP_NET_ADMIN", e.getMessage());
        assertThrows(ErrnoException.class, () -> Errno.retryOrThrow("poll", "TUN tun7", Errno.EAGAIN));
    }
}
