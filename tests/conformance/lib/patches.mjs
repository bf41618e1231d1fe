// Proposed changes to the convex package, applied to a copy of it.
//
// A schedule's `options.patches: ["id", ...]` names diffs in
// tests/conformance/patches/<id>.diff (unified diffs against the installed
// package root: `--- a/dist/esm/...`). The harness copies the installed
// package's package.json and dist/esm (the build Node imports) to
// node_modules/.cache/authrace-patches/<key>/node_modules/convex, applies the
// diffs there in the order given, and imports the copy instead of the
// installed package. The copy sits under this folder's node_modules, so its
// imports of `react` resolve to the same instance the harness uses, and its
// path contains `/node_modules/convex/`, so env.mjs captures its timers.
// <key> hashes the package version, the ids and the diffs' text: a changed
// diff gets a fresh copy. The installed package itself is never modified.
//
// The diffs are applied here, in Node (no `patch` or `git` needed): each
// hunk's old lines (context and removals) must occur exactly in the file,
// nearest to the line the hunk names; otherwise the run fails with a
// message naming the diff, file and hunk.

import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const CONFORMANCE_DIR = join(HERE, "..");
export const PATCHES_DIR = join(CONFORMANCE_DIR, "patches");
const INSTALLED = join(CONFORMANCE_DIR, "node_modules", "convex");
const CACHE = join(CONFORMANCE_DIR, "node_modules", ".cache", "authrace-patches");

/** Parses a unified diff: [{path, hunks: [{oldStart, lines: [[op, text]]}]}]. */
export function parseDiff(text, name = "diff") {
  const files = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let file = null;
  let hunk = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("--- ") && lines[i + 1]?.startsWith("+++ ")) {
      const path = lines[i + 1].slice(4).split("\t")[0].replace(/^b\//, "");
      file = { path, hunks: [] };
      files.push(file);
      hunk = null;
      i += 1;
      continue;
    }
    const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (h) {
      if (file === null) throw new Error(`${name}:${i + 1}: hunk before a file header`);
      hunk = { oldStart: Number(h[1]), line: i + 1, lines: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (hunk === null) continue; // text before the first file: a description
    if (line.startsWith("\\")) continue; // "\ No newline at end of file"
    const op = line[0] ?? " ";
    if (op !== " " && op !== "-" && op !== "+") {
      throw new Error(`${name}:${i + 1}: not a diff line: ${JSON.stringify(line)}`);
    }
    hunk.lines.push([op, line.slice(1)]);
  }
  if (files.length === 0) throw new Error(`${name}: no file in the diff`);
  return files;
}

/** Applies one file's hunks to `src`; throws naming the hunk that does not fit. */
export function applyHunks(src, hunks, where) {
  const lines = src.split("\n");
  let offset = 0;
  for (const hunk of hunks) {
    const old = hunk.lines.filter(([op]) => op !== "+").map(([, t]) => t);
    const neu = hunk.lines.filter(([op]) => op !== "-").map(([, t]) => t);
    const want = Math.max(0, hunk.oldStart - 1 + offset);
    const fits = (at) => at >= 0 && at + old.length <= lines.length && old.every((t, k) => lines[at + k] === t);
    let at = -1;
    for (let d = 0; d <= lines.length; d++) {
      if (fits(want - d)) {
        at = want - d;
        break;
      }
      if (fits(want + d)) {
        at = want + d;
        break;
      }
    }
    if (at < 0) throw new Error(`${where}: the hunk at diff line ${hunk.line} does not apply`);
    lines.splice(at, old.length, ...neu);
    offset += neu.length - old.length;
  }
  return lines.join("\n");
}

function diffText(id) {
  if (typeof id !== "string" || !/^[a-z0-9-]+$/.test(id)) {
    throw new Error(`options.patches: bad patch id ${JSON.stringify(id)}`);
  }
  const path = join(PATCHES_DIR, `${id}.diff`);
  if (!existsSync(path)) throw new Error(`options.patches: no diff tests/conformance/patches/${id}.diff`);
  return readFileSync(path, "utf8");
}

/** The root of a patched copy of the package (built on first use). */
export function patchedPackage(ids) {
  const diffs = ids.map((id) => [id, diffText(id)]);
  const version = JSON.parse(readFileSync(join(INSTALLED, "package.json"), "utf8")).version;
  const hash = createHash("sha256").update(JSON.stringify([version, diffs])).digest("hex").slice(0, 16);
  const key = `${ids.join("+")}-${hash}`;
  const root = join(CACHE, key, "node_modules", "convex");
  if (existsSync(join(root, ".authrace-patched"))) return root;
  // Built under a private name, then renamed: concurrent harnesses (parallel
  // tests) either win the rename or use the winner's copy.
  const tmp = join(CACHE, `${key}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const tmpRoot = join(tmp, "node_modules", "convex");
  try {
    mkdirSync(join(tmpRoot, "dist"), { recursive: true });
    cpSync(join(INSTALLED, "package.json"), join(tmpRoot, "package.json"));
    cpSync(join(INSTALLED, "dist", "esm"), join(tmpRoot, "dist", "esm"), { recursive: true });
    for (const [id, text] of diffs) {
      for (const f of parseDiff(text, `${id}.diff`)) {
        const target = join(tmpRoot, f.path);
        if (!f.path.startsWith("dist/esm/") || !existsSync(target)) {
          throw new Error(`${id}.diff: ${f.path} is not a file of the package's dist/esm`);
        }
        writeFileSync(target, applyHunks(readFileSync(target, "utf8"), f.hunks, `${id}.diff, ${f.path}`));
      }
    }
    writeFileSync(join(tmpRoot, ".authrace-patched"), `${JSON.stringify(ids)}\n`);
    mkdirSync(join(CACHE, key), { recursive: true });
    try {
      renameSync(join(tmp, "node_modules"), join(CACHE, key, "node_modules"));
    } catch (err) {
      if (!existsSync(join(root, ".authrace-patched"))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return root;
}

const loaded = new Map();

/**
 * The module `entry` ("browser" or "react") of the package with `ids`
 * applied; `null` for no patches (the caller imports the installed package).
 */
export async function loadPatched(ids, entry) {
  if (ids === undefined || ids.length === 0) return null;
  if (!Array.isArray(ids)) throw new Error("options.patches must be a list of patch ids");
  const file = { browser: "dist/esm/browser/index-node.js", react: "dist/esm/react/index.js" }[entry];
  const k = `${JSON.stringify(ids)} ${entry}`;
  if (!loaded.has(k)) {
    const root = patchedPackage(ids);
    loaded.set(k, import(pathToFileURL(join(root, file)).href));
  }
  return loaded.get(k);
}

/** Releases pinned besides 1.48.0 (package.json aliases `convex-<version>`). */
export const PINNED_VERSIONS = ["1.20.0", "1.42.0"];

/**
 * The module `entry` of the pinned release `version`; `null` for 1.48.0 and
 * the releases that carry its auth code (the installed package).
 */
export async function loadVersion(version, entry) {
  if (version === undefined || version === null || ["1.48.0", "1.49.0", "1.50.0", "1.51.0"].includes(version)) {
    return null;
  }
  if (!PINNED_VERSIONS.includes(version)) {
    throw new Error(`options.version ${JSON.stringify(version)} is not pinned in the harness (pinned: 1.48.0, ${PINNED_VERSIONS.join(", ")})`);
  }
  const file = { browser: "dist/esm/browser/index-node.js", react: "dist/esm/react/index.js" }[entry];
  const k = `version ${version} ${entry}`;
  if (!loaded.has(k)) {
    loaded.set(k, import(pathToFileURL(join(CONFORMANCE_DIR, "node_modules", `convex-${version}`, file)).href));
  }
  return loaded.get(k);
}
