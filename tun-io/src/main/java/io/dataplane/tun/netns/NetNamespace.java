package io.dataplane.tun.netns;

import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A named Linux network namespace, as {@code ip netns} keeps them (a bind mount of the namespace
 * at {@code /run/netns/NAME}), with a dedicated platform thread that lives inside it.
 *
 * <p>A thread's network namespace decides where the TUN devices, sockets and netlink sockets it
 * opens belong; the descriptors keep that namespace for life, whichever thread uses them later.
 * So code that must open things in the namespace runs through {@link #call} or {@link #run} on the
 * namespace's own thread, and everything else stays on ordinary threads. The namespace's thread
 * runs nothing else and exits on {@link #close}, so its namespace never leaks into the JVM's other
 * threads (setns on a pooled or virtual thread would). {@link #newThread} makes further threads
 * that live inside the namespace, for long-running loops that open things as they go.
 *
 * <p>One JVM can host nodes in two namespaces: open both, and build each node inside its own.
 */
public final class NetNamespace implements AutoCloseable {
    /** Where named namespaces are mounted, as iproute2 keeps them. */
    public static final String RUN_DIR = "/run/netns";

    /** Work for the namespace's thread that returns a value and may throw {@code E}. */
    @FunctionalInterface
    public interface Action<T, E extends Exception> {
        /** Runs inside the namespace. */
        T run() throws E;
    }

    /** Work for the namespace's thread that may throw {@code E}. */
    @FunctionalInterface
    public interface Task<E extends Exception> {
        /** Runs inside the namespace. */
        void run() throws E;
    }

    private final String name;
    private final String path;
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    private NetNamespace(String name, boolean create) throws IOException {
        this.name = name;
        this.path = RUN_DIR + "/" + name;
        CompletableFuture<Void> entered = new CompletableFuture<>();
        this.thread = Thread.ofPlatform().daemon().name("netns-" + name).unstarted(() -> serve(create, entered));
        thread.start();
        try {
            joinUninterruptibly(entered);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw io;
            if (cause instanceof RuntimeException r) throw r;
            throw new IOException("entering network namespace " + name + " failed", cause);
        }
    }

    /**
     * Creates the network namespace {@code name} as {@code ip netns add} does: a new namespace
     * unshared on the namespace's own thread, bind-mounted at {@code /run/netns/NAME} (which is
     * made a shared mount first, so other mount namespaces see it). Its loopback is down, as
     * after {@code ip netns add}.
     *
     * @throws IllegalArgumentException when {@code name} is not a plain file name
     * @throws ErrnoException naming the call: EEXIST when the namespace exists, EPERM without root
     */
    public static NetNamespace create(String name) throws IOException {
        return new NetNamespace(checkName(name), true);
    }

    /**
     * Opens the existing namespace {@code name} (from {@code ip netns add} or {@link #create}).
     *
     * @throws ErrnoException with ENOENT naming {@code /run/netns/NAME} when there is none
     */
    public static NetNamespace open(String name) throws IOException {
        return new NetNamespace(checkName(name), false);
    }

    /** True if {@code /run/netns/NAME} exists. */
    public static boolean exists(String name) {
        return Files.exists(Path.of(RUN_DIR, checkName(name)));
    }

    /**
     * Deletes the namespace {@code name} as {@code ip netns delete} does: detaches the mount and
     * removes the file. The namespace itself goes away once nothing (a thread, a descriptor) holds it.
     *
     * @throws ErrnoException with ENOENT when there is no such namespace
     */
    public static void delete(String name) throws IOException {
        String path = RUN_DIR + "/" + checkName(name);
        try {
            NamespaceNative.umount2(path, NamespaceNative.MNT_DETACH);
        } catch (ErrnoException e) {
            // EINVAL: the file is there but nothing is mounted on it (a half-made namespace); remove it anyway.
            if (e.errno() != Errno.EINVAL) throw e;
        }
        NamespaceNative.unlink(path);
    }

    private static String checkName(String name) {
        if (name == null || name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a network namespace name: \"" + name + "\" (a file name without '/')");
        }
        if (name.length() > 200) throw new IllegalArgumentException("network namespace name too long: " + name.length() + " characters");
        return name;
    }

    private void serve(boolean create, CompletableFuture<Void> entered) {
        try {
            if (create) enterNew();
            else enterExisting(path);
            entered.complete(null);
        } catch (Throwable t) {
            entered.completeExceptionally(t);
            return;
        }
        while (true) {
            Runnable r;
            try {
                r = tasks.take();
            } catch (InterruptedException e) {
                continue; // only close() ends this thread, with its poison task
            }
            if (r == POISON) return;
            r.run();
        }
    }

    private static final Runnable POISON = () -> {};

    private void enterNew() throws IOException {
        NamespaceNative.mkdirs(RUN_DIR, 0755);
        makeRunDirShared();
        int fd = FdNative.open(path, FdNative.O_RDONLY | FdNative.O_CREAT | FdNative.O_EXCL | FdNative.O_CLOEXEC, 0);
        FdNative.close(fd);
        try {
            NamespaceNative.unshare(NamespaceNative.CLONE_NEWNET, "CLONE_NEWNET");
            NamespaceNative.mount("/proc/thread-self/ns/net", path, NamespaceNative.MS_BIND);
        } catch (IOException | RuntimeException e) {
            try {
                NamespaceNative.unlink(path);
            } catch (ErrnoException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    // As iproute2: make /run/netns a shared mount (bind-mounting it on itself first if it is not a
    // mount point), so a namespace mounted there shows up in other mount namespaces too.
    private static void makeRunDirShared() throws ErrnoException {
        try {
            NamespaceNative.mount(null, RUN_DIR, NamespaceNative.MS_SHARED | NamespaceNative.MS_REC);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EINVAL) throw e;
            NamespaceNative.mount(RUN_DIR, RUN_DIR, NamespaceNative.MS_BIND | NamespaceNative.MS_REC);
            NamespaceNative.mount(null, RUN_DIR, NamespaceNative.MS_SHARED | NamespaceNative.MS_REC);
        }
    }

    private static void enterExisting(String path) throws IOException {
        int fd = FdNative.open(path, FdNative.O_RDONLY | FdNative.O_CLOEXEC, 0);
        try {
            NamespaceNative.setns(fd, NamespaceNative.CLONE_NEWNET, path);
        } finally {
            FdNative.close(fd);
        }
    }

    /** The namespace's name. */
    public String name() {
        return name;
    }

    /** The namespace's file, {@code /run/netns/NAME}. */
    public String path() {
        return path;
    }

    /**
     * Runs {@code action} on the namespace's thread and returns its result; what it throws is
     * thrown here. TUN devices, sockets and netlink sockets it opens belong to this namespace.
     *
     * @throws IllegalStateException when the namespace object is closed
     */
    public <T, E extends Exception> T call(Action<T, E> action) throws E {
        if (Thread.currentThread() == thread) return action.run(); // nested call: already inside
        CompletableFuture<T> result = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                result.complete(action.run());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        };
        // Under the lock that close() takes to queue its poison, so no task is queued behind it.
        synchronized (this) {
            if (closed) throw new IllegalStateException("network namespace " + name + " is closed");
            tasks.add(task);
        }
        try {
            return joinUninterruptibly(result);
        } catch (ExecutionException e) {
            throw NetNamespace.<E>sneaky(e.getCause());
        }
    }

    /** Runs {@code task} on the namespace's thread; see {@link #call}. */
    public <E extends Exception> void run(Task<E> task) throws E {
        call(() -> {
            task.run();
            return null;
        });
    }

    /**
     * An unstarted platform thread that enters this namespace and then runs {@code body}. If it
     * cannot enter (the namespace was deleted), {@code body} does not run and the thread ends with
     * an {@link IllegalStateException} naming the error.
     */
    public Thread newThread(String threadName, Runnable body) {
        String p = path;
        return Thread.ofPlatform().name(threadName).unstarted(() -> {
            try {
                enterExisting(p);
            } catch (IOException e) {
                throw new IllegalStateException("thread " + threadName + " could not enter network namespace " + name + ": " + e.getMessage(), e);
            }
            body.run();
        });
    }

    /**
     * Ends the namespace's thread after the work already queued. The namespace itself stays
     * (mounted under {@code /run/netns}) until {@link #delete()}.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            tasks.add(POISON);
        }
        if (Thread.currentThread() != thread) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Closes this object and deletes the namespace ({@link #delete(String)}). */
    public void delete() throws IOException {
        close();
        delete(name);
    }

    @Override
    public String toString() {
        return "NetNamespace[" + name + "]";
    }

    private static <T> T joinUninterruptibly(CompletableFuture<T> f) throws ExecutionException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
