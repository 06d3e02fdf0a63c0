// Tokenizes spec files with the TextMate grammar of dsl/lsp/editors/vscode and reports every stretch of text
// the grammar leaves unknown (no scope but the file's) or marks illegal. Arguments: `strict:PATH` (a spec that
// parses: neither is allowed) or `lenient:PATH` (an error fixture: illegal characters are expected, unknown
// text is not). A Markdown path has its ```machine blocks tokenized, strictly. Exits 1 on any finding.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const textmate = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = path.dirname(fileURLToPath(import.meta.url));
const grammarPath = path.join(here, '..', 'vscode', 'syntaxes', 'meerkat.tmLanguage.json');
const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));

const registry = new textmate.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (text) => new oniguruma.OnigString(text),
  }),
  loadGrammar: async (scope) =>
    scope === 'source.meerkat'
      ? textmate.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath)
      : null,
});
const grammar = await registry.loadGrammar('source.meerkat');

function machineBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  let current = null;
  lines.forEach((line, index) => {
    const fence = line.trimStart();
    if (current === null && fence.startsWith('```machine')) current = { start: index + 1, lines: [] };
    else if (current !== null && fence.startsWith('```')) { blocks.push(current); current = null; }
    else if (current !== null) current.lines.push(line);
  });
  return blocks;
}

const findings = [];
let tokens = 0;
function tokenize(name, lines, firstLine, strict) {
  let stack = textmate.INITIAL;
  lines.forEach((line, index) => {
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      const text = line.slice(token.startIndex, token.endIndex);
      if (text.trim() === '') continue;
      tokens += 1;
      const unknown = token.scopes.length === 1;
      const illegal = token.scopes.some((s) => s.startsWith('invalid.illegal'));
      if (unknown || (strict && illegal)) {
        const what = unknown ? 'unknown' : 'illegal';
        findings.push(`${name}:${firstLine + index}:${token.startIndex + 1}: ${what} text \`${text}\``);
      }
    }
    stack = result.ruleStack;
  });
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node tokenize.mjs strict:PATH | lenient:PATH ...');
  process.exit(2);
}
for (const arg of args) {
  const [mode, file] = [arg.slice(0, arg.indexOf(':')), arg.slice(arg.indexOf(':') + 1)];
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.md')) {
    for (const block of machineBlocks(text)) tokenize(file, block.lines, block.start + 1, true);
  } else {
    tokenize(file, text.split('\n'), 1, mode === 'strict');
  }
}
if (findings.length > 0) {
  console.log(findings.join('\n'));
  console.log(`${findings.length} findings in ${args.length} files`);
  process.exit(1);
}
console.log(`${tokens} tokens in ${args.length} files, none unknown`);
