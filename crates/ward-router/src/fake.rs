//! A scripted backend for tests: it answers from a script (text in pieces, a failure before or
//! after the first piece, a hang) and records every request it receives, so tests can prove what
//! reached which backend.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ward_core::{
    Backend, ErrorKind, FinishReason, GenerationEvent, GenerationRequest, GenerationStream,
    GenerationSummary, ModelCard, Timings, Usage, WardError,
};

use crate::backend::RoutedBackend;

/// What the backend does with the next requests.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// Stream these pieces, then finish.
    Reply(Vec<String>, FinishReason),
    /// Refuse before any text.
    FailToStart(ErrorKind),
    /// Send the first piece, then fail.
    FailAfterFirst(Vec<String>),
    /// Never answer.
    Hang,
    /// Repeat the last message back, three characters per piece.
    Echo,
    /// Answer the n-th request with the n-th reply (the last one again once they run out), four
    /// characters per piece.
    Replies(Vec<String>),
}

pub struct ScriptedBackend {
    backend_id: String,
    cards: Vec<ModelCard>,
    script: Mutex<Script>,
    ready: AtomicBool,
    received: Mutex<Vec<GenerationRequest>>,
    price: Option<ward_core::TokenPrice>,
}

impl ScriptedBackend {
    /// A backend serving `model` that answers "ok".
    pub fn new(backend_id: &str, model: &str) -> Self {
        ScriptedBackend {
            backend_id: backend_id.to_owned(),
            cards: vec![ModelCard::named(model)],
            script: Mutex::new(Script::Reply(vec!["ok".into()], FinishReason::Stop)),
            ready: AtomicBool::new(true),
            received: Mutex::new(Vec::new()),
            price: None,
        }
    }

    /// The backend charging these prices per million input and output tokens.
    pub fn priced(mut self, input_per_mtok: f64, output_per_mtok: f64) -> Self {
        self.price = Some(ward_core::TokenPrice {
            input_per_mtok,
            output_per_mtok,
        });
        self
    }

    pub fn set_script(&self, script: Script) {
        *self.script.lock().expect("script lock") = script;
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<GenerationRequest> {
        self.received.lock().expect("received lock").clone()
    }

    pub fn into_local(self) -> RoutedBackend {
        RoutedBackend::Local(Arc::new(self))
    }

    fn answer(&self, request: GenerationRequest) -> Result<GenerationStream, WardError> {
        let last_message = match &request.prompt {
            ward_core::Prompt::Chat(messages) => messages.last().map(|m| m.content.clone()),
            ward_core::Prompt::Text { text, .. } => Some(text.clone()),
        }
        .unwrap_or_default();
        let call = {
            let mut received = self.received.lock().expect("received lock");
            received.push(request);
            received.len() - 1
        };
        let script = self.script.lock().expect("script lock").clone();
        let summary = |finish_reason, pieces: &[String]| GenerationSummary {
            finish_reason,
            usage: Usage {
                prompt_tokens: 3,
                completion_tokens: pieces.len() as u32,
            },
            timings: Timings::default(),
        };
        let events: Vec<Result<GenerationEvent, WardError>> = match script {
            Script::FailToStart(kind) => {
                return Err(WardError::new(
                    kind,
                    format!("backend '{}' refused", self.backend_id),
                ))
            }
            Script::Hang => return Ok(Box::pin(futures::stream::pending())),
            Script::Echo | Script::Replies(_) => {
                let (text, size) = match &script {
                    Script::Replies(replies) => (
                        replies
                            .get(call.min(replies.len().saturating_sub(1)))
                            .cloned()
                            .unwrap_or_default(),
                        4,
                    ),
                    _ => (last_message, 3),
                };
                let chars: Vec<char> = text.chars().collect();
                let pieces: Vec<String> = chars
                    .chunks(size)
                    .map(|piece| piece.iter().collect())
                    .collect();
                pieces
                    .iter()
                    .map(|piece| Ok(GenerationEvent::Delta(piece.clone())))
                    .chain([Ok(GenerationEvent::Done(summary(
                        FinishReason::Stop,
                        &pieces,
                    )))])
                    .collect()
            }
            Script::Reply(pieces, finish_reason) => pieces
                .iter()
                .map(|piece| Ok(GenerationEvent::Delta(piece.clone())))
                .chain([Ok(GenerationEvent::Done(summary(finish_reason, &pieces)))])
                .collect(),
            Script::FailAfterFirst(pieces) => vec![
                Ok(GenerationEvent::Delta(
                    pieces.first().cloned().unwrap_or_default(),
                )),
                Err(WardError::new(
                    ErrorKind::BackendUnavailable,
                    "the backend failed mid-stream",
                )),
            ],
        };
        Ok(Box::pin(futures::stream::iter(events)))
    }
}

#[async_trait::async_trait]
impl Backend for ScriptedBackend {
    fn backend_id(&self) -> &str {
        &self.backend_id
    }

    fn price(&self) -> Option<ward_core::TokenPrice> {
        self.price
    }

    fn loaded_models(&self) -> &[ModelCard] {
        &self.cards
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    async fn generate(&self, request: GenerationRequest) -> Result<GenerationStream, WardError> {
        self.answer(request)
    }
}
