package io.dataplane.core.pipeline;

/** {@link PipelineTest} with {@link Pipeline.TunWriter#SINGLE_THREAD} and busy polling up to 200 us after each send. */
class PipelineSingleThreadBusyPollTest extends PipelineTest {
    @Override
    Pipeline.TunWriter tunWriter() {
        return Pipeline.TunWriter.SINGLE_THREAD;
    }

    @Override
    long busyPollNanos() {
        return 200_000;
    }
}
