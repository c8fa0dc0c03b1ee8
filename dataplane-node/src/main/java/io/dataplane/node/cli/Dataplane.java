package io.dataplane.node.cli;

import io.dataplane.core.config.BackendType;
import io.dataplane.node.OverlayNode;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code dataplane}, the command line a user runs first ({@code ./dataplane} at the repository
 * root starts it): {@code dataplane node} runs one node from flannel's files, {@code dataplane
 * demo} two nodes in two network namespaces.
 *
 * <p>What reaches the user is one line per problem, never a stack trace: a bad configuration is
 * {@code dataplane node: FILE: FIELD: what is wrong, with the value} and exit code 2, anything
 * else that stops a command one line and exit code 1. {@code --debug} adds the stack trace and the
 * library's log.
 */
@Command(name = "dataplane", mixinStandardHelpOptions = true, versionProvider = Dataplane.Version.class,
        subcommands = {NodeCommand.class, ShowCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
        description = {"A zero-copy userspace packet dataplane with flannel's overlay backends.", "",
                "  dataplane demo               two nodes in two network namespaces and",
                "                               traffic across the overlay (root)",
                "  dataplane node --config DIR  one node from flannel's files in DIR (root)",
                "  dataplane show --config DIR  what the node running from DIR knows (root)", ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the command failed (one line says why)",
                "2:a bad command line or configuration (one line names the file or option, the field and the value)"})
public final class Dataplane implements Runnable {
    /** Exit code of a bad command line or configuration. */
    static final int EXIT_CONFIG = CommandLine.ExitCode.USAGE;
    /** Exit code of anything else that stopped a command. */
    static final int EXIT_FAILURE = CommandLine.ExitCode.SOFTWARE;

    @Spec
    private CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces and the library's log.")
    private boolean debug;

    private Dataplane() {}

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        noVertxFileCache();
        System.exit(run(args, System.out, System.err));
    }

    /**
     * etcd's client runs on Vert.x, which by default makes a {@code vertx-cache-<uuid>} directory
     * in {@code java.io.tmpdir} for class-path files it may serve, and removes it in a shutdown
     * hook: a node killed with SIGKILL (a supervisor, the OOM killer) leaves one behind at each
     * start. A node serves no files, so Vert.x resolves none from the class path and makes no
     * directory. A value given on the command line ({@code -Dvertx.disableFileCPResolving}) stays.
     */
    private static void noVertxFileCache() {
        if (System.getProperty("vertx.disableFileCPResolving") == null) System.setProperty("vertx.disableFileCPResolving", "true");
    }

    /** Runs the command line with these streams and returns its exit code (for tests, and {@link #main}). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        boolean debug = List.of(args).contains("--debug");
        quietLogging(debug);
        CommandLine cmd = new CommandLine(new Dataplane());
        cmd.setOverwrittenOptionsAllowed(true); // the last --public-ip wins, so a script can add to a base command line
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((e, ignoredArgs) -> {
            err.println(prefix(e.getCommandLine()) + e.getMessage() + " (see " + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help)");
            if (debug) e.printStackTrace(err);
            return EXIT_CONFIG;
        });
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Problem problem = Problem.of(e);
            err.println(prefix(commandLine) + problem.line());
            if (debug) e.printStackTrace(err);
            return problem.exitCode();
        });
        return cmd.execute(args);
    }

    private static String prefix(CommandLine commandLine) {
        return commandLine.getCommandSpec().qualifiedName() + ": ";
    }

    /**
     * The library logs through {@link System.Logger}, which goes to java.util.logging: on one line
     * each, and without {@code --debug} only warnings, so a running node prints its own lines and
     * nothing else.
     */
    private static void quietLogging(boolean debug) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s %3$s: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        Level level = debug ? Level.FINE : Level.WARNING;
        root.setLevel(level);
        for (var handler : root.getHandlers()) handler.setLevel(level);
    }

    /** {@code dataplane} without a command: says which there are. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: demo, node or show");
    }

    /** The version, the Java runtime and the backends of this build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Dataplane.class.getPackage().getImplementationVersion();
            return new String[] {"dataplane " + (version != null ? version : "(development build)"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.home") + ")",
                    "backends: " + String.join(", ", new SupportedBackends())};
        }
    }

    /** The backends this build runs, by flannel's names: completion candidates and help text for {@code --backend}. */
    static final class SupportedBackends implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return OverlayNode.supportedBackends().stream().map(BackendType::flannelName).iterator();
        }
    }
}
