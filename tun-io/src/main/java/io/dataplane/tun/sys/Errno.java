package io.dataplane.tun.sys;

import io.dataplane.tun.ErrnoException;

/**
 * Linux errno values this module acts on, their names, and the one place that turns an errno into
 * an outcome: {@link #EAGAIN} means "nothing now", {@link #EBADF} means "closed", anything else is
 * an {@link ErrnoException} naming the call. The numbers are the generic Linux ones (x86_64 and
 * aarch64 share them).
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
