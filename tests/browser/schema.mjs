// Validates scenario files (converted to JSON by the caller) against the
// JSON Schema `authrace schema` prints, with ajv (an independent validator).
// Usage: node schema.mjs SCHEMA.json DOCS.json   (DOCS: {"file": document, ...})
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const [schemaPath, docsPath] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const docs = JSON.parse(readFileSync(docsPath, "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);
let failed = 0;
for (const [file, doc] of Object.entries(docs)) {
  if (!validate(doc)) {
    failed += 1;
    console.error(`${file}: ${ajv.errorsText(validate.errors)}`);
  }
}
console.log(`${Object.keys(docs).length - failed} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
