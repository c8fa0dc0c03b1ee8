# Sourced by ./mvnw and ./dataplane: finds a JDK >= 22 and exports JAVA_HOME.
# Sets DATAPLANE_JDK_FEATURE to its feature release (22, 25, ...).

# Prints the feature release of the JDK at $1, or nothing when $1 is no JDK.
dataplane_jdk_feature() {
  local home=$1 line v
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    line=$(grep '^JAVA_VERSION=' "$home/release" 2>/dev/null | head -n 1)
    v=${line#JAVA_VERSION=}
    v=${v//\"/}
  fi
  if [ -z "${v:-}" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  v=${v#1.}
  v=${v%%[.+-]*}
  case "$v" in ''|*[!0-9]*) return 0 ;; esac
  echo "$v"
}

dataplane_find_jdk() {
  local min=22 best="" best_v=0 home v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(dataplane_jdk_feature "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$min" ]; then
      DATAPLANE_JDK_FEATURE=$v
      export JAVA_HOME DATAPLANE_JDK_FEATURE
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  fi
  for home in /usr/lib/jvm/*; do
    [ -d "$home" ] && [ ! -L "$home" ] || continue
    v=$(dataplane_jdk_feature "$home")
    if [ -n "$v" ] && [ "$v" -ge "$min" ] && [ "$v" -gt "$best_v" ]; then
      best=$home best_v=$v
    fi
  done
  if [ -z "$best" ]; then
    echo "error: Dataplane needs a JDK >= $min (the Foreign Function & Memory API is final in 22)." >&2
    echo "  JAVA_HOME=${JAVA_HOME:-<unset>} does not qualify, and /usr/lib/jvm holds no JDK >= $min." >&2
    echo "  Install one (for example Temurin 25) under /usr/lib/jvm, or point JAVA_HOME at it." >&2
    return 1
  fi
  export JAVA_HOME=$best DATAPLANE_JDK_FEATURE=$best_v
  export PATH="$JAVA_HOME/bin:$PATH"
  return 0
}
