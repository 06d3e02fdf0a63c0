//! End to end: start the `meerkat-lsp` binary and speak JSON-RPC to it over stdio as an editor does
//! (initialize, didOpen, didChange, hover, definition, references, rename, completion, document symbols,
//! formatting, shutdown), asserting its answers on the repository's own specs.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "a test fails loudly")]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

/// A running server and the notifications it sent while we waited for responses.
struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    notifications: Vec<Value>,
}

impl Client {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_meerkat-lsp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client { child, stdin, stdout, next_id: 1, notifications: Vec::new() }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "the server closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Sends a request and returns its response, keeping the notifications that came before it.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next diagnostics the server publishes.
    fn diagnostics(&mut self) -> Vec<Value> {
        let message = if self.notifications.is_empty() { self.receive() } else { self.notifications.remove(0) };
        assert_eq!(message["method"], "textDocument/publishDiagnostics", "{message}");
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

fn spec(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../machines/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The LSP position (line, UTF-16 column) of the `nth` occurrence of `needle`, plus `skip` characters.
fn position(text: &str, needle: &str, nth: usize, skip: usize) -> Value {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("no `{needle}` #{nth}")).0 + skip;
    let line = text[..offset].matches('\n').count();
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": column })
}

fn at(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

fn initialize() -> Client {
    let mut client = Client::start();
    let response = client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    let capabilities = &response["result"]["capabilities"];
    for capability in ["hoverProvider", "definitionProvider", "referencesProvider", "renameProvider"] {
        assert_eq!(capabilities[capability], json!(true), "{capability}");
    }
    assert!(
        capabilities["completionProvider"].is_object() && capabilities["documentFormattingProvider"] == json!(true)
    );
    client.notify("initialized", json!({}));
    client
}

fn shutdown(mut client: Client) {
    let response = client.request("shutdown", Value::Null);
    assert_eq!(response["result"], Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert!(status.success(), "the server exits cleanly: {status}");
}

#[test]
fn a_session_on_the_traffic_light() {
    let uri = "file:///work/machines/traffic_light.machine";
    let text = spec("traffic_light.machine");
    let mut client = initialize();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "meerkat", "version": 1, "text": text } }),
    );
    assert_eq!(client.diagnostics(), Vec::<Value>::new(), "the traffic light checks clean");

    // A typo in a target phase: an error with its code, its range and help.
    let broken = text.replacen("from Red -> Green when", "from Red -> Gren when", 1);
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    let diagnostics = client.diagnostics();
    let typo =
        diagnostics.iter().find(|d| d["message"].as_str().unwrap().contains("Gren")).expect("the typo is reported");
    assert!(typo["code"].as_str().unwrap().starts_with('E'), "{typo}");
    assert_eq!(typo["severity"], 1);
    assert_eq!(typo["range"]["start"], position(&broken, "Gren", 0, 0));
    assert_eq!(typo["range"]["end"], position(&broken, "Gren", 0, 4));
    assert!(typo["message"].as_str().unwrap().contains("help:"), "the hint travels with the message: {typo}");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": text }] }),
    );
    assert_eq!(client.diagnostics(), Vec::<Value>::new());

    // Hover: a state field's type and doc comment; a guard's definition.
    let hover = client.request("textDocument/hover", at(uri, position(&text, "ticks >= 3", 0, 1)));
    let value = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.contains("state ticks: u64") && value.contains("Ticks spent in the current phase."), "{value}");
    let hover = client.request("textDocument/hover", at(uri, position(&text, "when green_elapsed", 0, 6)));
    let value = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.contains("guard green_elapsed = green_done(ticks, requested)"), "{value}");
    let hover = client.request("textDocument/hover", at(uri, position(&text, "emit Show", 0, 6)));
    assert!(hover["result"]["contents"]["value"].as_str().unwrap().contains("effect Show { lamp: Lamp }"));

    // Go to definition: a message, a variant behind its enum, a helper's parameter.
    let definition = client.request("textDocument/definition", at(uri, position(&text, "on PressButton", 0, 4)));
    assert_eq!(definition["result"][0]["range"]["start"], position(&text, "input PressButton", 0, 6));
    let definition = client.request("textDocument/definition", at(uri, position(&text, "Lamp::Green", 0, 7)));
    assert_eq!(definition["result"].as_array().unwrap().len(), 1);
    assert_eq!(definition["result"][0]["range"]["start"], position(&text, "Amber, Green }", 0, 7));
    let definition = client.request("textDocument/definition", at(uri, position(&text, "ticks + 1", 0, 0)));
    assert_eq!(definition["result"][0]["range"]["start"], position(&text, "green_done(ticks", 0, 11));

    // References of the state field `ticks`: its declaration and eleven uses, not the helper's parameter.
    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "ticks: u64 = 0", 0, 0),
                "context": { "includeDeclaration": true } }),
    );
    let references = references["result"].as_array().unwrap();
    assert_eq!(references.len(), 12, "{references:?}");
    assert!(!references.iter().any(|r| r["range"]["start"]["line"] == 39), "the parameter is another name");

    // Rename: every reference of `cycles`, and refusals with reasons.
    let rename = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "cycles += 1", 0, 0), "newName": "laps" }),
    );
    let edits = rename["result"]["changes"][uri].as_array().unwrap();
    assert_eq!(edits.len(), 3, "{edits:?}");
    assert!(edits.iter().all(|e| e["newText"] == "laps"));
    let refused = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "cycles += 1", 0, 0), "newName": "ticks" }),
    );
    assert!(refused["error"]["message"].as_str().unwrap().contains("already declared"), "{refused}");
    let refused = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "cycles += 1", 0, 0), "newName": "match" }),
    );
    assert!(refused["error"]["message"].as_str().unwrap().contains("reserved"), "{refused}");

    // Completion inside the switch-off transition: its payload field first, then the machine's names.
    let completion = client.request(
        "textDocument/completion",
        at(uri, position(&text, "requested = false;\n        emit Projected\n    }\n\n    model", 0, 0)),
    );
    let labels: Vec<&str> =
        completion["result"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert_eq!(labels.first(), Some(&"reason"), "{labels:?}");
    for name in ["ticks", "Lamp", "Amber", "green_done", "green_elapsed", "Projected", "ChangeToGreen"] {
        assert!(labels.contains(&name), "{name} in {labels:?}");
    }

    // The outline: the machine, its items, and the variants under their enum.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let machine = &symbols["result"][0];
    assert_eq!(machine["name"], "TrafficLight");
    let children = machine["children"].as_array().unwrap();
    let names: Vec<&str> = children.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for name in ["Lamp", "Red", "cycles", "Tick", "Show", "green_done", "green_elapsed", "off_is_dark", "ChangeToRed"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let lamp = children.iter().find(|c| c["name"] == "Lamp").unwrap();
    assert_eq!(lamp["children"].as_array().unwrap().len(), 3);

    // Formatting: the formatted file needs no edit; a squeezed one gets the formatter's text back.
    let none = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(none["result"], json!([]));
    let squeezed = text.replace("ticks += 1 }", "ticks+=1}");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": squeezed }] }),
    );
    assert_eq!(client.diagnostics(), Vec::<Value>::new());
    let edit = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edit["result"][0]["newText"], json!(text));
    shutdown(client);
}

#[test]
fn a_session_on_the_meerkat_machine() {
    let uri = "file:///work/machines/meerkat.machine";
    let text = spec("meerkat.machine");
    let mut client = initialize();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "meerkat", "version": 1, "text": text } }),
    );
    let errors: Vec<Value> = client.diagnostics().into_iter().filter(|d| d["severity"] == 1).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // A helper's hover is its definition; its references include its uses in guards and transitions.
    let use_site = position(&text, "is_session(session_id)", 1, 0);
    let hover = client.request("textDocument/hover", at(uri, use_site.clone()));
    assert!(hover["result"]["contents"]["value"].as_str().unwrap().contains("fn is_session("), "{hover}");
    let definition = client.request("textDocument/definition", at(uri, use_site.clone()));
    assert_eq!(definition["result"][0]["range"]["start"], position(&text, "fn is_session", 0, 3));
    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": use_site, "context": { "includeDeclaration": false } }),
    );
    let uses = text.matches("is_session(").count() - 1;
    assert_eq!(references["result"].as_array().unwrap().len(), uses);
    shutdown(client);
}

/// Two machines in one file and a composition routing between them in another, in a folder of their own.
const MACHINES: &str = "\
/// Sends work.
machine Producer {
    phases { initial Idle, terminal Done }
    input Start
    /// Work finished.
    effect Finished
    on Start from Idle -> Done { emit Finished }
}

/// Receives work.
machine Consumer {
    phases { initial Waiting, terminal Served }
    input Deliver
    on Deliver from Waiting -> Served
}
";
const WIRING: &str = "\
composition Pipeline {
    /// Finished work is delivered.
    route Producer.Finished -> Consumer.Deliver
}
";

impl Client {
    /// The next `count` diagnostics notifications, by URI.
    fn published(&mut self, count: usize) -> std::collections::BTreeMap<String, Vec<Value>> {
        let mut by_uri = std::collections::BTreeMap::new();
        for _ in 0..count {
            let message = if self.notifications.is_empty() { self.receive() } else { self.notifications.remove(0) };
            assert_eq!(message["method"], "textDocument/publishDiagnostics", "{message}");
            let uri = message["params"]["uri"].as_str().unwrap().to_string();
            by_uri.insert(uri, message["params"]["diagnostics"].as_array().unwrap().clone());
        }
        by_uri
    }
}

#[test]
fn a_session_on_a_package_of_two_files() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().canonicalize().unwrap();
    std::fs::write(root.join("machines.machine"), MACHINES).unwrap();
    std::fs::write(root.join("wiring.machine"), WIRING).unwrap();
    let machines = format!("file://{}/machines.machine", root.display());
    let wiring = format!("file://{}/wiring.machine", root.display());
    let mut client = initialize();

    // Opening the composition checks the folder as one package and publishes each file's diagnostics.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": wiring, "languageId": "meerkat", "version": 1, "text": WIRING } }),
    );
    let published = client.published(2);
    assert_eq!(published.keys().cloned().collect::<Vec<_>>(), vec![machines.clone(), wiring.clone()]);
    assert!(published.values().all(Vec::is_empty), "the package checks clean: {published:?}");

    // Definition from the route to the other file: the machine, its effect and the other machine's input.
    let definition = client.request("textDocument/definition", at(&wiring, position(WIRING, "Producer.", 0, 2)));
    assert_eq!(definition["result"][0]["uri"], json!(machines));
    assert_eq!(definition["result"][0]["range"]["start"], position(MACHINES, "Producer {", 0, 0));
    let definition =
        client.request("textDocument/definition", at(&wiring, position(WIRING, "Producer.Finished", 0, 12)));
    assert_eq!(definition["result"].as_array().unwrap().len(), 1, "{definition}");
    assert_eq!(definition["result"][0]["uri"], json!(machines));
    assert_eq!(definition["result"][0]["range"]["start"], position(MACHINES, "Finished", 0, 0));
    let definition = client.request("textDocument/definition", at(&wiring, position(WIRING, "Deliver", 0, 1)));
    assert_eq!(definition["result"][0]["range"]["start"], position(MACHINES, "input Deliver", 0, 6));
    let hover = client.request("textDocument/hover", at(&wiring, position(WIRING, "Producer.Finished", 0, 9)));
    assert!(hover["result"]["contents"]["value"].as_str().unwrap().contains("Work finished."), "{hover}");

    // References of a machine from the file that only routes to it: its declaration and the route, across both.
    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": wiring }, "position": position(WIRING, "Consumer", 0, 0),
                "context": { "includeDeclaration": true } }),
    );
    let places: Vec<(&str, &Value)> = references["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["uri"].as_str().unwrap(), &r["range"]["start"]))
        .collect();
    assert_eq!(
        places,
        vec![
            (machines.as_str(), &position(MACHINES, "Consumer", 0, 0)),
            (wiring.as_str(), &position(WIRING, "Consumer", 0, 0))
        ]
    );

    // Rename of an input from the route edits both files.
    let rename = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": wiring }, "position": position(WIRING, "Deliver", 0, 0), "newName": "Hand" }),
    );
    let changes = rename["result"]["changes"].as_object().unwrap();
    assert_eq!(changes[&machines].as_array().unwrap().len(), 2, "the declaration and the transition: {rename}");
    assert_eq!(changes[&wiring].as_array().unwrap().len(), 1, "{rename}");

    // A typo in the route is published for the composition's file only.
    let broken = WIRING.replace("Producer.Finished", "Producer.Finishd");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": wiring, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    let published = client.published(2);
    assert_eq!(published[&machines], Vec::<Value>::new());
    let errors = &published[&wiring];
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["range"]["start"]["line"], 2, "{errors:?}");
    assert!(errors[0]["message"].as_str().unwrap().contains("Finishd"), "{errors:?}");

    // The other file changes on disk: the server reads it again when the client reports it.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": wiring, "version": 3 }, "contentChanges": [{ "text": WIRING }] }),
    );
    assert!(client.published(2).values().all(Vec::is_empty));
    std::fs::write(root.join("machines.machine"), MACHINES.replace("Finished", "Completed")).unwrap();
    client.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": machines, "type": 2 }] }));
    let published = client.published(2);
    assert_eq!(published[&machines], Vec::<Value>::new());
    assert!(published[&wiring][0]["message"].as_str().unwrap().contains("Finished"), "{published:?}");

    // Closing the last open file of the package clears the diagnostics of all of its files.
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": wiring } }));
    assert!(client.published(2).values().all(Vec::is_empty));
    shutdown(client);
}

#[test]
fn local_bindings_resolve_within_their_scope() {
    let uri = "file:///work/machines/job_lease.machine";
    // A `let` added to the completion transition, so every kind of local binding is in the file.
    let text =
        spec("job_lease.machine").replacen("leases.remove(job);", "let gone = job;\n        leases.remove(gone);", 1);
    let mut client = initialize();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "meerkat", "version": 1, "text": text } }),
    );
    let errors: Vec<Value> = client.diagnostics().into_iter().filter(|d| d["severity"] == 1).collect();
    assert!(errors.is_empty(), "{errors:?}");

    // `if let Some(job)` in the claim transition: definition, hover and references stay inside its block.
    let bound = position(&text, "Some(job) = queued.first()", 0, 5);
    let use_site = position(&text, "attempts_of(job) + 1", 0, 12);
    let definition = client.request("textDocument/definition", at(uri, use_site.clone()));
    assert_eq!(definition["result"].as_array().unwrap().len(), 1, "{definition}");
    assert_eq!(definition["result"][0]["range"]["start"], bound);
    let hover = client.request("textDocument/hover", at(uri, use_site.clone()));
    let value = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.contains("job: JobId") && value.contains("if let Some(job)"), "the checker's type: {value}");
    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": use_site, "context": { "includeDeclaration": true } }),
    );
    let block_start = text.find("if let Some(job) = queued.first()").unwrap();
    let block = &text[block_start..block_start + text[block_start..].find("\n        }\n").unwrap()];
    let lines: Vec<u64> = references["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), block.matches("job").count(), "every `job` of the block and no other: {lines:?}");
    let first = bound["line"].as_u64().unwrap();
    assert!(lines.iter().all(|&l| first <= l && l <= first + 5), "{lines:?}");

    // A closure parameter: its use goes to it, and a rename edits the closure only.
    let closure = "queued.all(|job| !ended.contains_key(job))";
    let use_site = position(&text, closure, 0, closure.len() - 4);
    let definition = client.request("textDocument/definition", at(uri, use_site.clone()));
    assert_eq!(definition["result"][0]["range"]["start"], position(&text, closure, 0, 12));
    let rename = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": use_site, "newName": "queued_job" }),
    );
    let edits = rename["result"]["changes"][uri].as_array().unwrap();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert!(edits.iter().all(|e| e["range"]["start"]["line"] == position(&text, closure, 0, 0)["line"]));

    // A `let`: its use goes to it and hover shows its declaration.
    let use_site = position(&text, "remove(gone)", 0, 7);
    let definition = client.request("textDocument/definition", at(uri, use_site.clone()));
    assert_eq!(definition["result"][0]["range"]["start"], position(&text, "let gone", 0, 4));
    let hover = client.request("textDocument/hover", at(uri, use_site));
    let value = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.contains("gone: JobId") && value.contains("let gone = job"), "{value}");
    let closure_hover = client.request("textDocument/hover", at(uri, position(&text, closure, 0, 12)));
    let value = closure_hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.contains("job: JobId") && value.contains("closure parameter"), "{value}");
    // Renaming it to a state field's name would shadow the field, so it is refused.
    let refused = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "let gone", 0, 4), "newName": "queued" }),
    );
    assert!(refused["error"]["message"].as_str().unwrap().contains("already declared"), "{refused}");
    shutdown(client);
}

#[test]
fn a_client_that_can_watch_files_is_asked_to_watch_spec_files() {
    let mut client = Client::start();
    let capabilities = json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let response =
        client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": capabilities }));
    assert!(response["result"]["capabilities"].is_object(), "{response}");
    client.notify("initialized", json!({}));
    let register = client.receive();
    assert_eq!(register["method"], "client/registerCapability", "{register}");
    let registration = &register["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(registration["registerOptions"]["watchers"][0]["globPattern"], "**/*.machine");
    client.send(&json!({ "jsonrpc": "2.0", "id": register["id"], "result": null }));
    shutdown(client);
}
