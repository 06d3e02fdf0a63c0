//! The protocol loop: capabilities, open documents, and one handler per request. Requests about a document that
//! is not open, or a position where no name is written, get an empty answer, never an error the editor would
//! show; a rename that cannot be done safely gets a request error with the reason.

use std::collections::HashMap;

use anyhow::Result;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, References, Rename, Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    DocumentFormattingParams, DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability, Location, MarkupContent,
    MarkupKind, OneOf, PublishDiagnosticsParams, ReferenceParams, RenameParams, ServerCapabilities, SymbolKind as Lsk,
    TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Url, WorkspaceEdit,
};

use crate::analysis::Document;
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

/// Serves one client on `connection` until it shuts down.
pub fn serve(connection: &Connection) -> Result<()> {
    let mut server = Server::default();
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
                if let Some(publish) = server.notification(notification) {
                    connection.sender.send(Message::Notification(publish))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// The open documents.
#[derive(Default)]
pub struct Server {
    documents: HashMap<Url, Document>,
}

impl Server {
    /// Opens or replaces a document; returns its diagnostics notification.
    pub fn set_text(&mut self, uri: Url, text: String) -> Notification {
        let document = Document::analyse(uri.clone(), text);
        let params = PublishDiagnosticsParams::new(uri.clone(), document.diagnostics.clone(), None);
        self.documents.insert(uri, document);
        Notification::new(PublishDiagnostics::METHOD.to_string(), params)
    }

    fn notification(&mut self, notification: Notification) -> Option<Notification> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let params: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(notification.params).ok()?;
                Some(self.set_text(params.text_document.uri, params.text_document.text))
            }
            DidChangeTextDocument::METHOD => {
                let params: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                // Full synchronisation: the last change holds the whole text.
                let text = params.content_changes.into_iter().last()?.text;
                Some(self.set_text(params.text_document.uri, text))
            }
            DidCloseTextDocument::METHOD => {
                let params: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(notification.params).ok()?;
                self.documents.remove(&params.text_document.uri);
                let cleared = PublishDiagnosticsParams::new(params.text_document.uri, Vec::new(), None);
                Some(Notification::new(PublishDiagnostics::METHOD.to_string(), cleared))
            }
            _ => None,
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

    /// The document and byte offset of a position.
    fn at(&self, position: &TextDocumentPositionParams) -> Option<(&Document, usize)> {
        let document = self.documents.get(&position.text_document.uri)?;
        Some((document, document.lines.offset(&document.text, position.position)))
    }

    fn symbols_at(&self, position: &TextDocumentPositionParams) -> Option<(&Document, Vec<usize>)> {
        let (document, offset) = self.at(position)?;
        let occurrence = document.index.occurrence_at(offset)?;
        Some((document, occurrence.symbols.clone()))
    }

    fn hover(&self, params: &HoverParams) -> Option<Hover> {
        let (document, symbols) = self.symbols_at(&params.text_document_position_params)?;
        let sections: Vec<String> = symbols
            .iter()
            .filter_map(|&s| document.index.symbols.get(s))
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

    fn location(document: &Document, span: meerkat_dsl::Span) -> Location {
        Location::new(document.uri.clone(), document.lines.range(&document.text, span))
    }

    fn definition(&self, params: &GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let (document, symbols) = self.symbols_at(&params.text_document_position_params)?;
        let locations: Vec<Location> = symbols
            .iter()
            .filter_map(|&s| document.index.symbols.get(s))
            .map(|symbol| Self::location(document, symbol.name_span))
            .collect();
        Some(GotoDefinitionResponse::Array(locations))
    }

    fn references(&self, params: &ReferenceParams) -> Option<Vec<Location>> {
        let (document, symbols) = self.symbols_at(&params.text_document_position)?;
        let mut spans: Vec<meerkat_dsl::Span> =
            symbols.iter().flat_map(|&s| document.index.references(s)).map(|o| o.span).collect();
        if !params.context.include_declaration {
            spans.retain(|span| {
                !symbols.iter().any(|&s| document.index.symbols.get(s).is_some_and(|d| d.name_span == *span))
            });
        }
        spans.sort();
        spans.dedup();
        Some(spans.into_iter().map(|span| Self::location(document, span)).collect())
    }

    fn rename(&self, params: &RenameParams) -> Result<Option<WorkspaceEdit>, (ErrorCode, String)> {
        let refuse = |message: String| (ErrorCode::RequestFailed, message);
        let Some((document, symbols)) = self.symbols_at(&params.text_document_position) else {
            return Err(refuse("there is no name to rename here".to_string()));
        };
        let new_name = params.new_name.as_str();
        let Some((&symbol, [])) = symbols.split_first() else {
            return Err(refuse(
                "this name can mean more than one declaration here; rename the declaration itself".to_string(),
            ));
        };
        let declared = &document.index.symbols[symbol];
        if !is_identifier(new_name) {
            return Err(refuse(format!("`{new_name}` is not a name")));
        }
        if meerkat_dsl::parse::RESERVED_WORDS.contains(&new_name) {
            return Err(refuse(format!("`{new_name}` is a reserved word")));
        }
        if let Some(clash) = document.index.symbols.iter().find(|s| s.name == new_name && s.machine == declared.machine)
        {
            return Err(refuse(format!("`{new_name}` is already declared here ({})", kind_name(clash.kind))));
        }
        let mut edits = Vec::new();
        for occurrence in document.index.references(symbol) {
            if occurrence.symbols.len() > 1 {
                let (line, column) = meerkat_dsl::span::line_col(&document.text, occurrence.span.start);
                return Err(refuse(format!(
                    "`{}` at {line}:{column} could also mean another declaration, so renaming it is not safe",
                    declared.name
                )));
            }
            edits.push(TextEdit::new(document.lines.range(&document.text, occurrence.span), new_name.to_string()));
        }
        Ok(Some(WorkspaceEdit::new(HashMap::from([(document.uri.clone(), edits)]))))
    }

    fn completion(&self, params: &CompletionParams) -> Option<CompletionResponse> {
        let (document, offset) = self.at(&params.text_document_position)?;
        let index = &document.index;
        let machine = index.machine_at(offset);
        let trigger = index.trigger_at(offset);
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
                SymbolKind::Param => symbol.span.start <= offset && offset <= symbol.span.end,
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
        let document = self.documents.get(&params.text_document.uri)?;
        let index = &document.index;
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
        for top in index.symbols.iter().filter(|s| s.machine.is_none()) {
            let machine = index.machines.iter().position(|m| m.name == top.name && top.kind == SymbolKind::Machine);
            let items: Vec<DocumentSymbol> = index
                .symbols
                .iter()
                .filter(|s| machine.is_some() && s.machine == machine)
                .filter(|s| s.owner.is_none() || s.kind == SymbolKind::Phase)
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
        let document = self.documents.get(&params.text_document.uri)?;
        // A file that does not parse is not formatted; its diagnostics already say why.
        let formatted = meerkat_dsl::format::format(&document.text).ok()?;
        if formatted == document.text {
            return Some(Vec::new());
        }
        let whole = document.lines.range(&document.text, meerkat_dsl::Span::new(0, document.text.len()));
        Some(vec![TextEdit::new(whole, formatted)])
    }
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
        SymbolKind::Param => CompletionItemKind::VARIABLE,
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
        SymbolKind::Param => Lsk::VARIABLE,
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
