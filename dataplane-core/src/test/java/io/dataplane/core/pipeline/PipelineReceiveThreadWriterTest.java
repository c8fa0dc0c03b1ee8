package io.dataplane.core.pipeline;

/** {@link PipelineTest} with {@link Pipeline.TunWriter#RECEIVE_THREAD}: no TUN writer thread, no TUN ring. */
class PipelineReceiveThreadWriterTest extends PipelineTest {
    @Override
    Pipeline.TunWriter tunWriter() {
        return Pipeline.TunWriter.RECEIVE_THREAD;
    }
}
