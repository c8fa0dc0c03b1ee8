package io.dataplane.node.cli;

import io.dataplane.core.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What stopped a command, as the one line the user sees and the exit code: the boundary where
 * every exception of a command ends up (no stack trace reaches the user without {@code --debug}).
 *
 * @param line the line, without the command's name in front
 * @param exitCode {@link Dataplane#EXIT_CONFIG} for a bad configuration, else {@link Dataplane#EXIT_FAILURE}
 */
record Problem(String line, int exitCode) {

    /**
     * A problem a command found itself and words for the user ("needs root"), with the exit code
     * to leave with. Carries no stack trace: it is a message, not a bug.
     */
    static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int exitCode;

        /** Stops the command with {@code line} and {@code exitCode}. */
        Stop(String line, int exitCode) {
            super(line, null, false, false);
            this.exitCode = exitCode;
        }
    }

    /**
     * The line and exit code for {@code e}: a {@link ConfigException} is its own message (file,
     * field, value); the kernel's refusals name the call and errno already; anything else is a bug
     * and says so, with its type, as one line.
     */
    static Problem of(Throwable e) {
        if (e instanceof Stop stop) return new Problem(stop.getMessage(), stop.exitCode);
        if (e instanceof ConfigException c) return new Problem(c.getMessage(), Dataplane.EXIT_CONFIG);
        if (e instanceof UncheckedIOException u) e = u.getCause();
        if (e instanceof IOException io) return new Problem(oneLine(io.getMessage() != null ? io.getMessage() : io.toString()), Dataplane.EXIT_FAILURE);
        return new Problem("internal error: " + oneLine(e.toString()) + " (--debug prints the stack trace)", Dataplane.EXIT_FAILURE);
    }

    /** {@code text} on one line: a message with line breaks (a tool's output) must not break the one-line promise. */
    static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
