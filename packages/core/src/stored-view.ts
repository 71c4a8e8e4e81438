import { Compile } from "typebox/compile";
import { JobView } from "./job.ts";
import { parseJson } from "./json.ts";

/**
 * The version of the fold (evolve.ts) that a stored view was written by. Bump it with
 * any change to `evolve` that makes the same events fold to another view: a view of
 * another version is then not trusted (readers fold the job from the stream, the
 * projector refolds it on its next event, `pnpm projector:rebuild` rewrites them all).
 *
 * Views written before the version was stored carry none and read as version 1: the
 * fold did not change when the version was introduced, so they are its output.
 */
export const FOLD_VERSION = 2;

/** The version a stored view without one was written by. */
const UNVERSIONED = 1;

const checkView = Compile(JobView);

export class InvalidViewError extends Error {
  readonly details: string[];

  constructor(details: string[]) {
    super(`invalid job view: ${details.join("; ")}`);
    this.details = details;
    this.name = "InvalidViewError";
  }
}

/** A view read back from the store, with the fold version that wrote it. */
export interface DecodedView {
  view: JobView;
  foldVersion: number;
}

/** The stored form of a view: its JSON, with the current FOLD_VERSION. */
export function encodeView(view: JobView): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...view, foldVersion: FOLD_VERSION }));
}

/**
 * Parses and checks a stored view (JSON bytes or text). With `key`, the view must be
 * that job's. The version is taken off the view: it belongs to the stored value, not
 * to the job, and never reaches the API.
 */
export function decodeView(payload: Uint8Array | string, key?: string): DecodedView {
  const value = parseJson(payload);
  if (value === undefined) throw new InvalidViewError(["not JSON"]);
  if (value === null || typeof value !== "object") throw new InvalidViewError(["not an object"]);
  const { foldVersion = UNVERSIONED, ...view } = value as { foldVersion?: unknown };
  if (!Number.isInteger(foldVersion)) throw new InvalidViewError([`/foldVersion must be an integer`]);
  if (!checkView.Check(view)) {
    throw new InvalidViewError([...checkView.Errors(view)].slice(0, 5).map((e) => `${e.instancePath || "/"} ${e.message}`));
  }
  if (key !== undefined && view.id !== key) throw new InvalidViewError([`/id is ${view.id}, the key ${key}`]);
  return { view, foldVersion: foldVersion as number };
}

/** A view key's value as a writer sees it before it writes over it. */
export interface StoredView {
  /** The store's revision of the value: what a compare-and-set write names. */
  revision: number;
  /** The view, of whichever fold; null when the value is not a view of its key. */
  view: JobView | null;
  /** The fold version that wrote it (trusted only when FOLD_VERSION); null when not a view. */
  foldVersion: number | null;
}

/** decodeView that never throws: a value that is not a view is reported as such (to be refolded and overwritten). */
export function readStoredView(payload: Uint8Array | string, key: string, revision: number): StoredView {
  try {
    const { view, foldVersion } = decodeView(payload, key);
    return { revision, view, foldVersion };
  } catch (err) {
    if (err instanceof InvalidViewError) return { revision, view: null, foldVersion: null };
    throw err;
  }
}

/** Whether a stored view may be read and folded over: it decodes, and the current fold wrote it. */
export function isTrusted(stored: StoredView): stored is StoredView & { view: JobView } {
  return stored.view !== null && stored.foldVersion === FOLD_VERSION;
}
