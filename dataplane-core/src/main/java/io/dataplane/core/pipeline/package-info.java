/**
 * The packet path between a TUN and the network: {@link io.dataplane.core.pipeline.Pipeline}
 * assembles it from a {@link io.dataplane.core.pipeline.PipelineConfig} and draws it, stage by
 * stage and thread by thread. Inside: the egress and ingress stages (plain classes that take a
 * batch and return a work count), the runners that drive them on the threads of a mode, and the
 * idle strategies those threads wait with.
 */
package io.dataplane.core.pipeline;
