/**
 * The command line {@code ./dataplane} runs: {@link io.dataplane.node.cli.Dataplane} (picocli),
 * {@code dataplane node} ({@link io.dataplane.node.cli.NodeCommand}: one
 * {@link io.dataplane.node.OverlayNode} from flannel's files, its peers.json watched by
 * {@link io.dataplane.node.cli.PeersWatch}, a stats line, Prometheus text from
 * {@link io.dataplane.node.cli.MetricsEndpoint}) and {@code dataplane demo}
 * ({@link io.dataplane.node.cli.DemoCommand}: two nodes in two network namespaces, undone by
 * {@link io.dataplane.node.cli.Teardown}).
 *
 * <p>Built on the library's public API only, as an agent embedding it would be. Every exception
 * ends at one boundary ({@link io.dataplane.node.cli.Problem}): one line for the user, an exit code.
 */
package io.dataplane.node.cli;
