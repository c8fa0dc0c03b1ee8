package io.dataplane.tun;

import io.dataplane.tun.sys.Errno;
import java.io.IOException;

/**
 * A system call failed: the message names the call, what it was applied to, and the errno,
 * {@code "ioctl(TUNSETIFF, tun0) failed: errno=1 (EPERM)"}. {@link #errno()} lets a caller react
 * to one errno (EEXIST on an idempotent add, say) without parsing the message.
 */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    /** A failure of {@code call} (with its argument, {@code "open(/dev/net/tun)"}) with {@code errno}. */
    public ErrnoException(String call, int errno) {
        this(call, errno, null);
    }

    /** As {@link #ErrnoException(String, int)}, with a hint appended to the message (what the errno usually means here). */
    public ErrnoException(String call, int errno, String hint) {
        super(call + " failed: errno=" + errno + " (" + Errno.name(errno) + ")" + (hint == null ? "" : ": " + hint));
        this.call = call;
        this.errno = errno;
    }

    /** The call as named in the message, {@code "ioctl(TUNSETIFF, tun0)"}. */
    public String call() {
        return call;
    }

    /** The errno the call failed with. */
    public int errno() {
        return errno;
    }

    /** The symbolic name of {@link #errno()}, {@code "EPERM"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
