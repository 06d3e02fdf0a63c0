//! Observability: a subscriber sees one `session_step` span per step, carrying the session id, the step's
//! transition and the input it is about. The recording subscriber below keeps each span's name and fields and
//! nothing else. This binary holds this one test: a thread-local subscriber shares tracing's callsite interest
//! cache with every other thread of the process, so a test running beside it without a subscriber could make it
//! miss spans (the counters' test is in `retention.rs`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{ImmediateExecutor, within};
use meerkat_runtime::{CompletionOutcome, Input, MeerkatMachine, SessionId};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One recorded span: its name and its fields, rendered.
#[derive(Clone, Debug)]
struct RecordedSpan {
    name: &'static str,
    fields: BTreeMap<&'static str, String>,
}

/// Records every span, with the fields given at creation and recorded later.
#[derive(Default)]
struct Recorder {
    next_id: AtomicU64,
    spans: Mutex<BTreeMap<u64, RecordedSpan>>,
}

struct FieldVisitor<'a>(&'a mut BTreeMap<&'static str, String>);

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

/// The subscriber side of a shared [`Recorder`].
struct Recording(Arc<Recorder>);

impl Subscriber for Recording {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = BTreeMap::new();
        span.record(&mut FieldVisitor(&mut fields));
        self.0.spans.lock().unwrap().insert(id, RecordedSpan { name: span.metadata().name(), fields });
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(recorded) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut FieldVisitor(&mut recorded.fields));
        }
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, _event: &Event<'_>) {}

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

// One thread, so the runtime loop's task records into the same default subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_subscriber_sees_a_span_per_session_step() {
    let recorder = Arc::new(Recorder::default());
    let _guard = tracing::subscriber::set_default(Recording(Arc::clone(&recorder)));
    let machine = Arc::new(MeerkatMachine::ephemeral());
    let session = SessionId::new("traced");
    machine.ensure_session_with_executor(session.clone(), Box::new(ImmediateExecutor)).await.expect("attach");
    let input = Input::new("observed");
    let input_id = input.id.to_string();
    let (_, handle) = machine.accept_input_with_completion(&session, input).await.expect("accept");
    assert_eq!(within(handle.wait()).await, CompletionOutcome::Completed);

    let spans: Vec<RecordedSpan> = recorder.spans.lock().unwrap().values().cloned().collect();
    let steps: Vec<&RecordedSpan> = spans.iter().filter(|span| span.name == "session_step").collect();
    let transition = |span: &RecordedSpan| span.fields.get("transition").cloned().unwrap_or_default();
    let accept = steps.iter().find(|span| transition(span) == "AcceptInput").expect("an AcceptInput step span");
    assert_eq!(accept.fields.get("session_id").map(String::as_str), Some("traced"));
    assert_eq!(accept.fields.get("input_id"), Some(&input_id));
    for name in ["EnsureSessionWithExecutor", "RuntimeLoopBeginRun", "RuntimeLoopFinishRun", "ForgetTerminalInputs"] {
        assert!(steps.iter().any(|span| transition(span) == name), "a {name} span among {steps:?}");
    }
    assert!(steps.iter().all(|span| span.fields.get("session_id").map(String::as_str) == Some("traced")));
}
