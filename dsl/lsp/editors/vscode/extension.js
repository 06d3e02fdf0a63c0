// Starts meerkat-lsp (the setting `meerkat.server.path`, default: `meerkat-lsp` on PATH) for .machine files and
// connects it to the editor over stdio; colouring comes from the TextMate grammar in syntaxes/.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('meerkat').get('server.path', 'meerkat-lsp');
  const server = { command, args: [] };
  client = new LanguageClient(
    'meerkat',
    'Meerkat language server',
    { run: server, debug: server },
    { documentSelector: [{ scheme: 'file', language: 'meerkat' }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
