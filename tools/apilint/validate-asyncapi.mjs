// Validates an AsyncAPI document with the AsyncAPI initiative's own parser (the CLI needs a
// newer Node.js than Debian 12 ships); exits non-zero on any error or warning.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const file = process.argv[2];
const { document, diagnostics } = await new Parser().parse(readFileSync(file, "utf8"));
const problems = diagnostics.filter((d) => d.severity <= 1);  // 0 error, 1 warning
for (const d of problems) console.error(`${file}: ${d.path.join(".")}: ${d.message}`);
if (!document || problems.length > 0) process.exit(1);
console.log(`${file}: valid AsyncAPI ${document.version()}, ${document.operations().length} operations`);
