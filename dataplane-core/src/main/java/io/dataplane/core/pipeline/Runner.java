package io.dataplane.core.pipeline;

/** The threads of one threading mode, driving a pipeline's stages; started when made. */
sealed interface Runner permits ThreadPerDirectionRunner, SingleThreadRunner {
    /** Stops the threads, closes the transport and the device, and leaves every buffer back in its pool. */
    void close();
}
