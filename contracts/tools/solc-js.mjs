#!/usr/bin/env node
/**
 * A stand-in for the native `solc` binary that forge can run offline: it answers `--version` in solc's
 * own format and compiles `--standard-json` from stdin with the `solc` npm package (solc-js).
 *
 * Usage (forge does this): forge build --offline --use contracts/tools/solc-js.mjs
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const solc = require('solc');

const args = process.argv.slice(2);

if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  process.stderr.write('solc-js.mjs: only --version and --standard-json are supported\n');
  process.exit(2);
}

// Import roots forge passes: --base-path DIR, --include-path DIR (repeatable), --allow-paths A,B
function optionValues(name) {
  const values = [];
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === name && i + 1 < args.length) values.push(args[i + 1]);
    else if (args[i].startsWith(`${name}=`)) values.push(args[i].slice(name.length + 1));
  }
  return values;
}
const basePath = optionValues('--base-path')[0] ?? process.cwd();
const roots = [basePath, ...optionValues('--include-path'), process.cwd()];
const allowed = [...roots, ...optionValues('--allow-paths').flatMap((value) => value.split(','))].map((root) =>
  path.resolve(basePath, root),
);

/** Sources forge did not inline are read from disk, but only from the roots forge allowed. */
function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(basePath, root, importPath);
    const permitted = allowed.some((dir) => candidate === dir || candidate.startsWith(dir + path.sep));
    if (!permitted) continue;
    try {
      return { contents: readFileSync(candidate, 'utf8') };
    } catch {
      // try the next root
    }
  }
  return { error: `File not found: ${importPath}` };
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  const output = solc.compile(input, { import: findImports });
  process.stdout.write(output);
});
