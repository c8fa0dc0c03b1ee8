package io.dataplane.node;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects, while installed, every log record at WARNING or above or with a throwable (the
 * library logs through {@code System.Logger}, which ends in java.util.logging here),
 * and every exception that ends a thread, so a test can assert that none reached the log.
 */
final class LogWatch implements AutoCloseable {
    private final List<String> problems = new ArrayList<>();
    private final Logger root = Logger.getLogger("");
    private final Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue() || r.getThrown() != null) {
                add(r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage() + (r.getThrown() != null ? " " + r.getThrown() : ""));
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    LogWatch() {
        root.addHandler(handler);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> add("uncaught in " + t.getName() + ": " + e));
    }

    private synchronized void add(String problem) {
        problems.add(problem);
    }

    /** What was logged so far. */
    synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    @Override
    public void close() {
        root.removeHandler(handler);
        Thread.setDefaultUncaughtExceptionHandler(previous);
    }
}
