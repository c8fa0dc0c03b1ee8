#!/usr/bin/env bash
# Builds the example agent as an outsider would, against the artifacts `./mvnw install` puts in the
# local Maven repository (~/.m2), and runs it (root: it makes a network namespace and a TUN device).
# .ci/run calls it after the test suite.
#
#   examples/agent/run.sh                  install the reactor (-DskipTests), build the agent, run it
#   DATAPLANE_SKIP_INSTALL=1 examples/agent/run.sh   take what is in ~/.m2 as it is
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${DATAPLANE_SKIP_INSTALL:-}" ]; then
  echo "agent: ./mvnw install -DskipTests -Djavadoc (the library's jars, sources, Javadoc and the BOM into ~/.m2)"
  "$root/mvnw" -q install -DskipTests -Dfuzz.skip=true -Djavadoc
fi
echo "agent: building examples/agent against the installed artifacts"
"$root/mvnw" -q -f "$here/pom.xml" clean package

if [ "$(id -u)" != 0 ]; then
  echo "agent: built; not run: it needs root (a network namespace and a TUN device)"
  exit 0
fi
source "$root/.mvn/find-jdk.sh"
dataplane_find_jdk
jvm=()
# Netty and JCTools use sun.misc.Unsafe; JDK 24+ warns about it unless told to allow it.
if [ "$DATAPLANE_JDK_FEATURE" -ge 24 ]; then jvm+=(--sun-misc-unsafe-memory-access=allow); fi
# The jar's manifest grants native access (Enable-Native-Access): no --enable-native-access here.
"$JAVA_HOME/bin/java" "${jvm[@]}" -jar "$here/target/agent.jar"
