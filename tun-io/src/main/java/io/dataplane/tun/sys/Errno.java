package io.dataplane.tun.sys;

import io.dataplane.tun.ErrnoException;

/**
 * Linux errno values this module acts on, their names, and the one place that turns the errno of a
 * failed call into an {@link Outcome} (the shape of Netty's {@code Errors.ioResult}): EINTR means
 * "make the call again", EAGAIN (which is EWOULDBLOCK on Linux) "nothing now" or "no room now",
 * EBADF "closed"; anything else is an {@link ErrnoException} naming the call, the descriptor and the
 * errno, or for a send or write, one packet the kernel refused. Every call site on a descriptor asks
 * {@link #ioResult}, {@link #sendResult} or {@link #retryOrThrow}; none compares errnos itself. The
 * numbers are the generic Linux ones (x86_64 and aarch64 share them).
 */
public final class Errno {
    /** Operation not permitted (no CAP_NET_ADMIN, no CAP_SYS_ADMIN). */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** No such process; from rtnetlink: no such route to delete. */
    public static final int ESRCH = 3;
    /** Interrupted by a signal: retry. */
    public static final int EINTR = 4;
    /** I/O error (a TUN write while the device is down). */
    public static final int EIO = 5;
    /** Bad file descriptor: the descriptor was closed. */
    public static final int EBADF = 9;
    /** Try again: nothing to read, no room to write. */
    public static final int EAGAIN = 11;
    /** Out of memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** Exists already. */
    public static final int EEXIST = 17;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** No such system call (or a seccomp filter refusing it). */
    public static final int ENOSYS = 38;
    /** The descriptor is in a bad state: a TUN whose device was removed. */
    public static final int EBADFD = 77;
    /** Protocol error (a reply that does not hold what its type promises). */
    public static final int EPROTO = 71;
    /** Message too long. */
    public static final int EMSGSIZE = 90;
    /** Address family or protocol not supported. */
    public static final int EAFNOSUPPORT = 97;
    /** Address in use: another socket is bound to the address and port. */
    public static final int EADDRINUSE = 98;
    /** Address not available: the address to delete or bind is not there. */
    public static final int EADDRNOTAVAIL = 99;
    /** No buffer space: a socket's send queue is full. */
    public static final int ENOBUFS = 105;
    /** Network unreachable: no route to the destination ({@code ip route get}, a send). */
    public static final int ENETUNREACH = 101;
    /** No route to the host. */
    public static final int EHOSTUNREACH = 113;
    /** Operation canceled: an io_uring operation linked after one that failed. */
    public static final int ECANCELED = 125;

    /** What the errno of a failed call means for its caller. */
    public enum Outcome {
        /** Interrupted by a signal (EINTR): make the call again at once. */
        RETRY,
        /** Nothing to read, or no room to write, now (EAGAIN): wait for readiness, or stop for now. */
        AGAIN,
        /** The descriptor was closed (EBADF), by a close from another thread: report closed. */
        CLOSED,
        /** The kernel refused this one packet or datagram (no route, too large, ...); the descriptor is fine. */
        FAILED
    }

    private static final String[] NAMES = new String[134];

    static {
        String[] table = {
            "1 EPERM", "2 ENOENT", "3 ESRCH", "4 EINTR", "5 EIO", "6 ENXIO", "7 E2BIG", "8 ENOEXEC", "9 EBADF",
            "10 ECHILD", "11 EAGAIN", "12 ENOMEM", "13 EACCES", "14 EFAULT", "15 ENOTBLK", "16 EBUSY", "17 EEXIST",
            "18 EXDEV", "19 ENODEV", "20 ENOTDIR", "21 EISDIR", "22 EINVAL", "23 ENFILE", "24 EMFILE", "25 ENOTTY",
            "26 ETXTBSY", "27 EFBIG", "28 ENOSPC", "29 ESPIPE", "30 EROFS", "31 EMLINK", "32 EPIPE", "33 EDOM",
            "34 ERANGE", "35 EDEADLK", "36 ENAMETOOLONG", "37 ENOLCK", "38 ENOSYS", "39 ENOTEMPTY", "40 ELOOP",
            "42 ENOMSG", "43 EIDRM", "61 ENODATA", "62 ETIME", "71 EPROTO", "74 EBADMSG", "75 EOVERFLOW",
            "77 EBADFD", "84 EILSEQ", "88 ENOTSOCK", "89 EDESTADDRREQ", "90 EMSGSIZE", "91 EPROTOTYPE",
            "92 ENOPROTOOPT", "93 EPROTONOSUPPORT", "94 ESOCKTNOSUPPORT", "95 EOPNOTSUPP", "96 EPFNOSUPPORT",
            "97 EAFNOSUPPORT", "98 EADDRINUSE", "99 EADDRNOTAVAIL", "100 ENETDOWN", "101 ENETUNREACH",
            "102 ENETRESET", "103 ECONNABORTED", "104 ECONNRESET", "105 ENOBUFS", "106 EISCONN", "107 ENOTCONN",
            "108 ESHUTDOWN", "110 ETIMEDOUT", "111 ECONNREFUSED", "112 EHOSTDOWN", "113 EHOSTUNREACH",
            "114 EALREADY", "115 EINPROGRESS", "122 EDQUOT", "125 ECANCELED", "133 EHWPOISON",
        };
        for (String entry : table) {
            int space = entry.indexOf(' ');
            NAMES[Integer.parseInt(entry, 0, space, 10)] = entry.substring(space + 1);
        }
    }

    private Errno() {}

    /** The symbolic name of {@code errno} ({@code "EPERM"}), or {@code "errno N"} for one not in the table. */
    public static String name(int errno) {
        String n = errno >= 0 && errno < NAMES.length ? NAMES[errno] : null;
        return n != null ? n : "errno " + errno;
    }

    /** The outcome {@code errno} stands for; every errno but EINTR, EAGAIN and EBADF is {@link Outcome#FAILED}. */
    public static Outcome outcome(int errno) {
        return switch (errno) {
            case EINTR -> Outcome.RETRY;
            case EAGAIN -> Outcome.AGAIN;
            case EBADF -> Outcome.CLOSED;
            default -> Outcome.FAILED;
        };
    }

    /**
     * The outcome of a nonblocking read, receive or poll on {@code target} that failed with {@code
     * errno}: {@link Outcome#RETRY}, {@link Outcome#AGAIN} or {@link Outcome#CLOSED}, never FAILED.
     * Builds no message unless it throws, so an EAGAIN allocates nothing.
     *
     * @throws ErrnoException {@code "call(target) failed: errno=N (NAME)"} for any other errno
     */
    public static Outcome ioResult(String call, Object target, int errno) throws ErrnoException {
        Outcome o = outcome(errno);
        if (o == Outcome.FAILED) throw exception(call + "(" + target + ")", errno);
        return o;
    }

    /**
     * The outcome of a send or write of one packet or datagram (or a batch of them) on {@code
     * target} that failed with {@code errno}: as {@link #outcome}, where {@link Outcome#FAILED}
     * means the kernel refused this packet and the caller skips and counts it.
     *
     * @throws ErrnoException naming the call when the descriptor itself is unusable (EBADFD: a TUN
     *     whose device was removed), so that nothing more is written to it
     */
    public static Outcome sendResult(String call, Object target, int errno) throws ErrnoException {
        if (errno == EBADFD) throw exception(call + "(" + target + ")", errno);
        return outcome(errno);
    }

    /**
     * For a blocking call on {@code target} that failed with {@code errno}: returns if the call is
     * to be made again (EINTR), throws for anything else.
     *
     * @throws ErrnoException {@code "call(target) failed: errno=N (NAME)"} unless EINTR
     */
    public static void retryOrThrow(String call, Object target, int errno) throws ErrnoException {
        if (outcome(errno) != Outcome.RETRY) throw exception(call + "(" + target + ")", errno);
    }

    /** The exception for {@code call} failing with {@code errno}. */
    public static ErrnoException exception(String call, int errno) {
        return new ErrnoException(call, errno, hint(errno));
    }

    /** The exception for {@code call} failing with {@code errno}, with a hint of the caller's own. */
    public static ErrnoException exception(String call, int errno, String hint) {
        return new ErrnoException(call, errno, hint);
    }

    // The errnos a newcomer meets first, with what they nearly always mean in this module.
    private static String hint(int errno) {
        return switch (errno) {
            case EPERM -> "needs root or CAP_NET_ADMIN";
            case EBADFD -> "the device was removed";
            default -> null;
        };
    }
}
