package io.dataplane.core.table;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one writer and some readers against a table for a while and collects the first failure: a
 * reader's wrong answer or any exception on either side.
 */
final class ReaderWriterRun {
    /** One change by the writer; throws to fail the run. */
    interface WriterStep {
        void step() throws Exception;
    }

    /** One pass of checks by a reader; returns a message describing a wrong answer, or null. */
    interface ReaderPass {
        String check(int reader);
    }

    /** Outcome: the first failure (or null), the writer's changes and the readers' passes. */
    record Result(String failure, long writes, long passes) {}

    private ReaderWriterRun() {}

    static Result run(long nanos, int readerCount, WriterStep writer, ReaderPass reader) throws InterruptedException {
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong writes = new AtomicLong();
        AtomicLong passes = new AtomicLong();
        long deadline = System.nanoTime() + nanos;
        List<Thread> threads = new ArrayList<>();
        threads.add(new Thread(() -> {
            long n = 0;
            try {
                while (System.nanoTime() < deadline && failure.get() == null) {
                    writer.step();
                    n++;
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, "writer threw " + t);
            } finally {
                writes.set(n);
            }
        }, "table-writer"));
        for (int r = 0; r < readerCount; r++) {
            int id = r;
            threads.add(new Thread(() -> {
                long n = 0;
                try {
                    while (System.nanoTime() < deadline && failure.get() == null) {
                        String wrong = reader.check(id);
                        if (wrong != null) {
                            failure.compareAndSet(null, wrong);
                            return;
                        }
                        n++;
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, "reader threw " + t);
                } finally {
                    passes.addAndGet(n);
                }
            }, "table-reader-" + r));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) t.join();
        return new Result(failure.get(), writes.get(), passes.get());
    }
}
