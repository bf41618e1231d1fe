#!/usr/bin/env node
// Conformance harness CLI.
//
//   node run.mjs < schedule.json > trace.json
//   node run.mjs schedule.json > trace.json
//   node run.mjs --batch DIR_OR_JSONL > traces.jsonl   (DIR: every *.json, sorted by name;
//                                                      JSONL: one schedule per line; "-": stdin)
//
// Single mode prints the trace (a JSON array of events). Batch mode prints one
// line per schedule, {"name": ..., "trace": [...]}, in input order, all in
// one process (each schedule still gets a fresh client, server and clock).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { runSchedule } from "./lib/harness.mjs";

function usage(msg) {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write(
    "usage: node run.mjs [SCHEDULE.json]   (default: stdin)\n" +
      "       node run.mjs --batch DIR|FILE.jsonl|-\n" +
      "       node run.mjs --serve    (JSONL on stdin, one trace line out per schedule line)\n",
  );
  process.exit(2);
}

function parse(text, name) {
  try {
    return JSON.parse(text);
  } catch (err) {
    usage(`${name}: invalid JSON: ${err.message}`);
  }
}

function readInput(path) {
  return path === undefined || path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
}

function batchInputs(arg) {
  if (arg !== "-" && statSync(arg).isDirectory()) {
    return readdirSync(arg)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => ({ name: f, schedule: parse(readFileSync(join(arg, f), "utf8"), f) }));
  }
  const out = [];
  readInput(arg)
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const schedule = parse(line, `line ${i + 1}`);
      out.push({ name: schedule.name ?? `line ${i + 1}`, schedule });
    });
  return out;
}

async function writeOut(text) {
  if (!process.stdout.write(text)) {
    await new Promise((r) => process.stdout.once("drain", r));
  }
}

const args = process.argv.slice(2);
if (args.includes("-h") || args.includes("--help")) usage();
if (args[0] === "--serve") {
  // One schedule per input line, one `{"name","trace"}` line out as soon as
  // it has run: a long-lived process for callers that generate schedules
  // one at a time (the Rust property tests).
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n += 1;
    if (line.trim() === "") continue;
    let schedule;
    try {
      schedule = JSON.parse(line);
    } catch (err) {
      await writeOut(`${JSON.stringify({ name: `line ${n}`, error: `invalid JSON: ${err.message}` })}\n`);
      continue;
    }
    const trace = await runSchedule(schedule);
    await writeOut(`${JSON.stringify({ name: schedule.name ?? `line ${n}`, trace })}\n`);
  }
} else if (args[0] === "--batch") {
  if (args.length !== 2) usage("--batch takes one argument");
  for (const { name, schedule } of batchInputs(args[1])) {
    const trace = await runSchedule(schedule);
    await writeOut(`${JSON.stringify({ name, trace })}\n`);
  }
} else {
  if (args.length > 1) usage("too many arguments");
  const schedule = parse(readInput(args[0]), args[0] ?? "stdin");
  const trace = await runSchedule(schedule);
  await writeOut(`[\n${trace.map((ev) => JSON.stringify(ev)).join(",\n")}\n]\n`);
}
