// Which Node.js runs the project: plain JavaScript, so that an old Node can load it and
// say what is wrong (see scripts/require-node.mjs).

/** The oldest Node.js that runs the project's TypeScript as it is (type stripping, no flag). */
export const OLDEST_NODE = "22.18.0";

/**
 * Null when `version` (process.versions.node) with these `features` (process.features)
 * runs the project, else the message that says what to do.
 */
export function nodeProblem(version, features, execPath) {
  const [major, minor] = version.split(".").map(Number);
  const [needMajor, needMinor] = OLDEST_NODE.split(".").map(Number);
  const tooOld = major < needMajor || (major === needMajor && minor < needMinor);
  if (!tooOld && features?.typescript) return null;
  return [
    `Node.js ${version} found at ${execPath}; this project needs ${OLDEST_NODE} or later (24 LTS is what it is tested on)${tooOld ? "" : ", with type stripping on"}.`,
    "  Put Node 24 first on PATH for this shell with:  source scripts/node-env.sh",
    "  (it installs Node 24 from the npm registry into .tools/ when the machine lacks it)",
  ].join("\n");
}
