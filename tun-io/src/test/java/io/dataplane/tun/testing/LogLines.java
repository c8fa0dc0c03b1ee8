package io.dataplane.tun.testing;

import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The messages, formatted, that one logger receives while this is installed (the library logs
 * through {@code System.Logger}, which ends in java.util.logging here), for a test that asserts
 * what a component said.
 */
public final class LogLines implements AutoCloseable {
    private final Logger logger;
    private final List<String> lines = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            String message = r.getMessage() == null ? "" : MessageFormat.format(r.getMessage(), r.getParameters());
            synchronized (lines) {
                lines.add(message);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    private LogLines(String loggerName) {
        this.logger = Logger.getLogger(loggerName);
        logger.addHandler(handler);
    }

    /** Starts collecting what the logger {@code loggerName} (a class name) receives. */
    public static LogLines of(String loggerName) {
        return new LogLines(loggerName);
    }

    /** The messages so far. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
