/**
 * flannel's configuration files, read with flannel's field names and defaults:
 * {@link io.dataplane.core.config.NetConf} ({@code net-conf.json}, with its
 * {@link io.dataplane.core.config.BackendConf}), {@link io.dataplane.core.config.SubnetEnv}
 * ({@code subnet.env}, read and written), {@link io.dataplane.core.config.Lease} (a node's lease, and
 * {@code peers.json} as a list of them) and {@link io.dataplane.core.config.NodeFiles} (the three
 * files of a node checked against each other).
 *
 * <p>Every reader throws {@link io.dataplane.core.config.ConfigException} and nothing else, with a
 * message that names the file, the field and the value, e.g.
 * {@code /etc/kube-flannel/net-conf.json: Backend.VNI: VNI out of range: vni=16777216 (max 16777215)}.
 * The records check their fields in their constructors too, so a value built in code obeys the
 * same rules as one read from a file.
 */
package io.dataplane.core.config;
