//! The protocol loop: capabilities, open documents, and one handler per request. Requests about a document that
//! is not open, or a position where no name is written, get an empty answer, never an error the editor would
//! show; a rename that cannot be done safely gets a request error with the reason.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, References, RegisterCapability,
    Rename, Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    DidChangeWatchedFilesParams, DidChangeWatchedFilesRegistrationOptions, DocumentFormattingParams, DocumentSymbol,
    DocumentSymbolParams, DocumentSymbolResponse, FileSystemWatcher, GlobPattern, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability, Location, MarkupContent,
    MarkupKind, OneOf, PublishDiagnosticsParams, ReferenceParams, Registration, RegistrationParams, RenameParams,
    ServerCapabilities, SymbolKind as Lsk, TextDocumentPositionParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextEdit, Url, WorkspaceEdit,
};

use crate::analysis::Package;
use crate::index::{Symbol, SymbolKind};

/// What the server offers.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), ":".to_string()]),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Serves one client on `connection` until it shuts down. `initialize` holds the client's `initialize`
/// parameters: when the client can watch files for the server, it is asked to report changes to spec files.
pub fn serve(connection: &Connection, initialize: &serde_json::Value) -> Result<()> {
    let mut server = Server::default();
    let can_watch = initialize
        .pointer("/capabilities/workspace/didChangeWatchedFiles/dynamicRegistration")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if can_watch {
        connection.sender.send(Message::Request(watch_spec_files()))?;
    }
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                let response = server.request(request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(notification) => {
                for publish in server.notification(notification) {
                    connection.sender.send(Message::Notification(publish))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// The request that asks the client to report created, changed and deleted `.machine` files.
fn watch_spec_files() -> Request {
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![FileSystemWatcher { glob_pattern: GlobPattern::String("**/*.machine".to_string()), kind: None }],
    };
    let registration = Registration {
        id: "meerkat-spec-files".to_string(),
        method: DidChangeWatchedFiles::METHOD.to_string(),
        register_options: serde_json::to_value(options).ok(),
    };
    Request::new(
        RequestId::from("meerkat-watch".to_string()),
        RegisterCapability::METHOD.to_string(),
        RegistrationParams { registrations: vec![registration] },
    )
}

/// The open documents and the packages they belong to.
#[derive(Default)]
pub struct Server {
    /// The editor's text of every open document.
    open: HashMap<Url, String>,
    /// The files of each package, by its key (its folder, or the document's URI when it has none).
    members: HashMap<String, Vec<Url>>,
    /// Each package with an open document, analysed.
    packages: HashMap<String, Package>,
    /// The package of every file of an analysed package.
    package_of: HashMap<Url, String>,
    /// Files of packages that are not open, as read from disk (read again when the client reports a change).
    disk: HashMap<Url, String>,
}

impl Server {
    /// Opens or replaces a document; returns the diagnostics notifications of every file of its package.
    pub fn set_text(&mut self, uri: Url, text: String) -> Vec<Notification> {
        let known = self.package_of.get(&uri).cloned();
        self.open.insert(uri.clone(), text);
        let key = match known {
            Some(key) => key,
            None => self.discover(&uri),
        };
        self.reanalyse(&key)
    }

    /// Lists the package of `uri` (the `.machine` files of its folder, with `uri` itself) and returns its key.
    fn discover(&mut self, uri: &Url) -> String {
        let folder = uri.to_file_path().ok().and_then(|path| path.parent().map(Path::to_path_buf));
        let (key, members) = match folder.as_deref().and_then(|folder| spec_files(folder, uri)) {
            Some(members) => (folder.map_or_else(String::new, |f| f.display().to_string()), members),
            None => (uri.to_string(), vec![uri.clone()]),
        };
        self.members.insert(key.clone(), members);
        key
    }

    /// Analyses package `key` again from the open texts and the files on disk; returns the diagnostics of each
    /// of its files, and empty ones for files that left it.
    fn reanalyse(&mut self, key: &str) -> Vec<Notification> {
        let members = self.members.get(key).cloned().unwrap_or_default();
        let mut files = Vec::new();
        for uri in &members {
            let text = match self.open.get(uri) {
                Some(text) => text.clone(),
                None => match self.disk.get(uri) {
                    Some(text) => text.clone(),
                    None => match uri.to_file_path().ok().and_then(|path| std::fs::read_to_string(path).ok()) {
                        Some(text) => {
                            self.disk.insert(uri.clone(), text.clone());
                            text
                        }
                        // A file that cannot be read is left out; the checker cannot say anything about it.
                        None => continue,
                    },
                },
            };
            files.push((uri.clone(), text));
        }
        let package = Package::analyse(files);
        let mut notifications = Vec::new();
        if let Some(old) = self.packages.get(key) {
            for gone in old.documents.iter().filter(|d| package.file_of(&d.uri).is_none()) {
                self.package_of.remove(&gone.uri);
                notifications.push(publish(gone.uri.clone(), Vec::new()));
            }
        }
        for document in &package.documents {
            self.package_of.insert(document.uri.clone(), key.to_string());
            notifications.push(publish(document.uri.clone(), document.diagnostics.clone()));
        }
        self.packages.insert(key.to_string(), package);
        notifications
    }

    /// Closes a document: its package is analysed again with the file's text on disk, or dropped (and its
    /// diagnostics cleared) when no other file of it is open.
    fn close(&mut self, uri: &Url) -> Vec<Notification> {
        self.open.remove(uri);
        self.disk.remove(uri);
        let Some(key) = self.package_of.get(uri).cloned() else { return vec![publish(uri.clone(), Vec::new())] };
        let still_open =
            self.members.get(&key).is_some_and(|members| members.iter().any(|m| self.open.contains_key(m)));
        if still_open {
            return self.reanalyse(&key);
        }
        let mut cleared = Vec::new();
        if let Some(package) = self.packages.remove(&key) {
            for document in package.documents {
                self.package_of.remove(&document.uri);
                self.disk.remove(&document.uri);
                cleared.push(publish(document.uri, Vec::new()));
            }
        }
        self.members.remove(&key);
        cleared
    }

    /// Files changed on disk: every analysed package in their folders is listed, read and analysed again.
    fn files_changed(&mut self, changed: &[Url]) -> Vec<Notification> {
        let mut keys: Vec<String> = Vec::new();
        for uri in changed {
            self.disk.remove(uri);
            let folder = uri.to_file_path().ok().and_then(|path| path.parent().map(|f| f.display().to_string()));
            for key in [self.package_of.get(uri).cloned(), folder].into_iter().flatten() {
                if self.packages.contains_key(&key) && !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        let mut notifications = Vec::new();
        for key in keys {
            let open = self.members.get(&key).and_then(|members| members.iter().find(|m| self.open.contains_key(*m)));
            if let Some(uri) = open.cloned() {
                let folder = uri.to_file_path().ok().and_then(|path| path.parent().map(Path::to_path_buf));
                if let Some(members) = folder.as_deref().and_then(|folder| spec_files(folder, &uri)) {
                    let open_members: Vec<Url> = self
                        .members
                        .get(&key)
                        .into_iter()
                        .flatten()
                        .filter(|m| self.open.contains_key(*m))
                        .cloned()
                        .collect();
                    let mut members = members;
                    members.extend(open_members);
                    members.sort();
                    members.dedup();
                    self.members.insert(key.clone(), members);
                }
            }
            notifications.extend(self.reanalyse(&key));
        }
        notifications
    }

    fn notification(&mut self, notification: Notification) -> Vec<Notification> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(notification.params)
                else {
                    return Vec::new();
                };
                self.set_text(params.text_document.uri, params.text_document.text)
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(notification.params)
                else {
                    return Vec::new();
                };
                // Full synchronisation: the last change holds the whole text.
                let Some(change) = params.content_changes.into_iter().last() else { return Vec::new() };
                self.set_text(params.text_document.uri, change.text)
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(notification.params)
                else {
                    return Vec::new();
                };
                self.close(&params.text_document.uri)
            }
            DidChangeWatchedFiles::METHOD => {
                let Ok(params) = serde_json::from_value::<DidChangeWatchedFilesParams>(notification.params) else {
                    return Vec::new();
                };
                let changed: Vec<Url> = params.changes.into_iter().map(|change| change.uri).collect();
                self.files_changed(&changed)
            }
            _ => Vec::new(),
        }
    }

    /// Answers one request.
    pub fn request(&self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => params(request).map(|p| json(self.hover(&p))),
            GotoDefinition::METHOD => params(request).map(|p| json(self.definition(&p))),
            References::METHOD => params(request).map(|p| json(self.references(&p))),
            Rename::METHOD => params(request).and_then(|p| self.rename(&p).map(json)),
            Completion::METHOD => params(request).map(|p| json(self.completion(&p))),
            DocumentSymbolRequest::METHOD => params(request).map(|p| json(self.symbols(&p))),
            Formatting::METHOD => params(request).map(|p| json(self.formatting(&p))),
            _ => Err((ErrorCode::MethodNotFound, format!("unsupported request `{}`", request.method))),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// The package of an open document and the document's number in it.
    fn document(&self, uri: &Url) -> Option<(&Package, usize)> {
        if !self.open.contains_key(uri) {
            return None;
        }
        let package = self.packages.get(self.package_of.get(uri)?)?;
        Some((package, package.file_of(uri)?))
    }

    /// The package, document number and byte offset of a position.
    fn at(&self, position: &TextDocumentPositionParams) -> Option<(&Package, usize, usize)> {
        let (package, file) = self.document(&position.text_document.uri)?;
        let document = package.documents.get(file)?;
        Some((package, file, document.lines.offset(&document.text, position.position)))
    }

    fn symbols_at(&self, position: &TextDocumentPositionParams) -> Option<(&Package, Vec<usize>)> {
        let (package, file, offset) = self.at(position)?;
        let occurrence = package.index.occurrence_at(file, offset)?;
        Some((package, occurrence.symbols.clone()))
    }

    fn hover(&self, params: &HoverParams) -> Option<Hover> {
        let (package, symbols) = self.symbols_at(&params.text_document_position_params)?;
        let sections: Vec<String> = symbols
            .iter()
            .filter_map(|&s| package.index.symbols.get(s))
            .map(|symbol| {
                let mut text = format!("```machine\n{}\n```", symbol.detail);
                if let Some(docs) = &symbol.docs {
                    text.push_str(&format!("\n\n{docs}"));
                }
                text
            })
            .collect();
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: sections.join("\n\n---\n\n"),
            }),
            range: None,
        })
    }

    /// The location of `span` in file `file` of `package`.
    fn location(package: &Package, file: usize, span: meerkat_dsl::Span) -> Option<Location> {
        let document = package.documents.get(file)?;
        Some(Location::new(document.uri.clone(), document.lines.range(&document.text, span)))
    }

    fn definition(&self, params: &GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let (package, symbols) = self.symbols_at(&params.text_document_position_params)?;
        let locations: Vec<Location> = symbols
            .iter()
            .filter_map(|&s| package.index.symbols.get(s))
            .filter_map(|symbol| Self::location(package, symbol.file, symbol.name_span))
            .collect();
        Some(GotoDefinitionResponse::Array(locations))
    }

    fn references(&self, params: &ReferenceParams) -> Option<Vec<Location>> {
        let (package, symbols) = self.symbols_at(&params.text_document_position)?;
        let index = &package.index;
        let mut places: Vec<(usize, meerkat_dsl::Span)> =
            symbols.iter().flat_map(|&s| index.references(s)).map(|o| (o.file, o.span)).collect();
        if !params.context.include_declaration {
            places.retain(|&(file, span)| {
                !symbols.iter().any(|&s| index.symbols.get(s).is_some_and(|d| d.file == file && d.name_span == span))
            });
        }
        places.sort();
        places.dedup();
        Some(places.into_iter().filter_map(|(file, span)| Self::location(package, file, span)).collect())
    }

    fn rename(&self, params: &RenameParams) -> Result<Option<WorkspaceEdit>, (ErrorCode, String)> {
        let refuse = |message: String| (ErrorCode::RequestFailed, message);
        let Some((package, symbols)) = self.symbols_at(&params.text_document_position) else {
            return Err(refuse("there is no name to rename here".to_string()));
        };
        let index = &package.index;
        let new_name = params.new_name.as_str();
        let Some((&symbol, [])) = symbols.split_first() else {
            return Err(refuse(
                "this name can mean more than one declaration here; rename the declaration itself".to_string(),
            ));
        };
        let Some(declared) = index.symbols.get(symbol) else {
            return Err(refuse("there is no name to rename here".to_string()));
        };
        if !is_identifier(new_name) {
            return Err(refuse(format!("`{new_name}` is not a name")));
        }
        if meerkat_dsl::parse::RESERVED_WORDS.contains(&new_name) {
            return Err(refuse(format!("`{new_name}` is a reserved word")));
        }
        // Two parameters or local bindings clash only where both are visible; any other name of the machine
        // clashes, since the renamed name would shadow it or be shadowed by it.
        let is_bound = |s: &Symbol| matches!(s.kind, SymbolKind::Param | SymbolKind::Local);
        let overlaps =
            |a: &Symbol, b: &Symbol| a.file == b.file && a.span.start < b.span.end && b.span.start < a.span.end;
        let clashes = |s: &&Symbol| {
            s.name == new_name
                && s.machine == declared.machine
                && !(is_bound(s) && is_bound(declared) && !overlaps(s, declared))
        };
        if let Some(clash) = index.symbols.iter().find(clashes) {
            return Err(refuse(format!("`{new_name}` is already declared here ({})", kind_name(clash.kind))));
        }
        let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
        for occurrence in index.references(symbol) {
            let Some(document) = package.documents.get(occurrence.file) else { continue };
            if occurrence.symbols.len() > 1 {
                let (line, column) = meerkat_dsl::span::line_col(&document.text, occurrence.span.start);
                return Err(refuse(format!(
                    "`{}` at {}:{line}:{column} could also mean another declaration, so renaming it is not safe",
                    declared.name,
                    document.uri.path_segments().and_then(|mut s| s.next_back()).unwrap_or("")
                )));
            }
            let edit = TextEdit::new(document.lines.range(&document.text, occurrence.span), new_name.to_string());
            changes.entry(document.uri.clone()).or_default().push(edit);
        }
        Ok(Some(WorkspaceEdit::new(changes)))
    }

    fn completion(&self, params: &CompletionParams) -> Option<CompletionResponse> {
        let (package, file, offset) = self.at(&params.text_document_position)?;
        let index = &package.index;
        let machine = index.machine_at(file, offset);
        let trigger = index.trigger_at(file, offset);
        let mut items: Vec<CompletionItem> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut offer = |symbol: &Symbol, items: &mut Vec<CompletionItem>| {
            if seen.insert((symbol.name.clone(), symbol.owner.clone())) {
                items.push(CompletionItem {
                    label: symbol.name.clone(),
                    kind: Some(completion_kind(symbol.kind)),
                    detail: Some(symbol.detail.lines().next().unwrap_or("").to_string()),
                    documentation: symbol.docs.clone().map(lsp_types::Documentation::String),
                    ..CompletionItem::default()
                });
            }
        };
        // The trigger's payload fields first: inside a transition they are the names most likely meant.
        for symbol in &index.symbols {
            if symbol.kind == SymbolKind::PayloadField
                && trigger.is_some()
                && symbol.owner.as_deref() == trigger
                && symbol.machine == machine
            {
                offer(symbol, &mut items);
            }
        }
        for symbol in &index.symbols {
            let in_scope = match symbol.kind {
                SymbolKind::Machine | SymbolKind::Composition => true,
                SymbolKind::Param | SymbolKind::Local => {
                    symbol.file == file && symbol.span.start <= offset && offset <= symbol.span.end
                }
                SymbolKind::PayloadField | SymbolKind::RecordField => false,
                _ => symbol.machine == machine,
            };
            if in_scope {
                offer(symbol, &mut items);
            }
        }
        Some(CompletionResponse::Array(items))
    }

    fn symbols(&self, params: &DocumentSymbolParams) -> Option<DocumentSymbolResponse> {
        let (package, file) = self.document(&params.text_document.uri)?;
        let document = package.documents.get(file)?;
        let index = &package.index;
        let make = |symbol: &Symbol, children: Option<Vec<DocumentSymbol>>| {
            #[allow(deprecated, reason = "`deprecated` is a required field of the protocol's type")]
            DocumentSymbol {
                name: symbol.name.clone(),
                detail: Some(symbol.detail.lines().next().unwrap_or("").to_string()),
                kind: outline_kind(symbol.kind),
                tags: None,
                deprecated: None,
                range: document.lines.range(&document.text, symbol.span),
                selection_range: document.lines.range(&document.text, symbol.name_span),
                children,
            }
        };
        let mut outline = Vec::new();
        for top in index.symbols.iter().filter(|s| s.machine.is_none() && s.file == file) {
            let machine = index
                .machines
                .iter()
                .position(|m| m.file == file && m.name == top.name && top.kind == SymbolKind::Machine);
            let items: Vec<DocumentSymbol> = index
                .symbols
                .iter()
                .filter(|s| machine.is_some() && s.machine == machine)
                .filter(|s| (s.owner.is_none() && s.kind != SymbolKind::Local) || s.kind == SymbolKind::Phase)
                .map(|item| {
                    let members: Vec<DocumentSymbol> = index
                        .symbols
                        .iter()
                        .filter(|s| s.machine == machine && s.owner.as_deref() == Some(item.name.as_str()))
                        .map(|member| make(member, None))
                        .collect();
                    make(item, (!members.is_empty()).then_some(members))
                })
                .collect();
            outline.push(make(top, (!items.is_empty()).then_some(items)));
        }
        Some(DocumentSymbolResponse::Nested(outline))
    }

    fn formatting(&self, params: &DocumentFormattingParams) -> Option<Vec<TextEdit>> {
        let (package, file) = self.document(&params.text_document.uri)?;
        let document = package.documents.get(file)?;
        // A file that does not parse is not formatted; its diagnostics already say why.
        let formatted = meerkat_dsl::format::format(&document.text).ok()?;
        if formatted == document.text {
            return Some(Vec::new());
        }
        let whole = document.lines.range(&document.text, meerkat_dsl::Span::new(0, document.text.len()));
        Some(vec![TextEdit::new(whole, formatted)])
    }
}

/// The diagnostics notification of one file.
fn publish(uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) -> Notification {
    Notification::new(PublishDiagnostics::METHOD.to_string(), PublishDiagnosticsParams::new(uri, diagnostics, None))
}

/// The `.machine` files of `folder`, as URIs sorted by name, with `uri` (written as the editor wrote it) among
/// them; none when the folder cannot be listed.
fn spec_files(folder: &Path, uri: &Url) -> Option<Vec<Url>> {
    let own = uri.to_file_path().ok();
    let mut files: Vec<(std::path::PathBuf, Url)> = Vec::new();
    for entry in std::fs::read_dir(folder).ok()?.flatten() {
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "machine") && own.as_ref() != Some(&path) {
            if let Ok(url) = Url::from_file_path(&path) {
                files.push((path, url));
            }
        }
    }
    if let Some(own) = own {
        files.push((own, uri.clone()));
    }
    files.sort();
    Some(files.into_iter().map(|(_, url)| url).collect())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn kind_name(kind: SymbolKind) -> &'static str {
    match kind {
        SymbolKind::Machine => "a machine",
        SymbolKind::Composition => "a composition",
        SymbolKind::Type => "a type",
        SymbolKind::Variant => "a variant",
        SymbolKind::Phase => "a phase",
        SymbolKind::StateField => "a state field",
        SymbolKind::RecordField => "a record field",
        SymbolKind::Message => "a message",
        SymbolKind::PayloadField => "a payload field",
        SymbolKind::Helper => "a helper",
        SymbolKind::Param => "a parameter",
        SymbolKind::Local => "a local binding",
        SymbolKind::Guard => "a guard",
        SymbolKind::Invariant => "an invariant",
        SymbolKind::Property => "a property",
        SymbolKind::Transition => "a transition",
    }
}

fn completion_kind(kind: SymbolKind) -> CompletionItemKind {
    match kind {
        SymbolKind::Machine | SymbolKind::Composition => CompletionItemKind::MODULE,
        SymbolKind::Type => CompletionItemKind::STRUCT,
        SymbolKind::Variant | SymbolKind::Phase => CompletionItemKind::ENUM_MEMBER,
        SymbolKind::StateField | SymbolKind::RecordField | SymbolKind::PayloadField => CompletionItemKind::FIELD,
        SymbolKind::Message => CompletionItemKind::EVENT,
        SymbolKind::Helper => CompletionItemKind::FUNCTION,
        SymbolKind::Param | SymbolKind::Local => CompletionItemKind::VARIABLE,
        SymbolKind::Guard | SymbolKind::Invariant | SymbolKind::Property => CompletionItemKind::CONSTANT,
        SymbolKind::Transition => CompletionItemKind::METHOD,
    }
}

fn outline_kind(kind: SymbolKind) -> Lsk {
    match kind {
        SymbolKind::Machine | SymbolKind::Composition => Lsk::MODULE,
        SymbolKind::Type => Lsk::STRUCT,
        SymbolKind::Variant | SymbolKind::Phase => Lsk::ENUM_MEMBER,
        SymbolKind::StateField | SymbolKind::RecordField | SymbolKind::PayloadField => Lsk::FIELD,
        SymbolKind::Message => Lsk::EVENT,
        SymbolKind::Helper => Lsk::FUNCTION,
        SymbolKind::Param | SymbolKind::Local => Lsk::VARIABLE,
        SymbolKind::Guard | SymbolKind::Invariant | SymbolKind::Property => Lsk::CONSTANT,
        SymbolKind::Transition => Lsk::METHOD,
    }
}

fn params<P: serde::de::DeserializeOwned>(request: Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(request.params).map_err(|e| (ErrorCode::InvalidParams, format!("invalid parameters: {e}")))
}

fn json<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// The id type, re-exported for tests that build requests.
pub type Id = RequestId;
