//! The llama.cpp side of the engine: loading a GGUF, one worker thread that owns the context,
//! prompt evaluation, sampling and streaming.
//!
//! A llama.cpp context is not `Send`, so it lives on its own thread for the life of the engine;
//! requests reach it through a queue and stream their tokens back over a channel. When the client
//! goes away the receiving half is dropped, the next send fails, and generation stops there.
//! A request with an output format carries a grammar sampler (from `crate::grammar`) that
//! constrains each token; a request without one samples exactly as before.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{mpsc as async_mpsc, oneshot};
use ward_core::{
    Backend, ErrorKind, FinishReason, GenerationEvent, GenerationRequest, GenerationStream,
    GenerationSummary, ModelCard, OutputFormat, Prompt, SamplingParams, Timings, Usage, WardError,
};

use crate::stop::{take_utf8_prefix, ScanOutcome, StopScanner};
use crate::template::ChatTemplate;

/// How to load and run one model.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub model_path: PathBuf,
    /// What clients see: name, aliases, metadata.
    pub card: ModelCard,
    /// CPU threads; `None` means the number of physical cores.
    pub threads: Option<usize>,
    /// Context window in tokens; `None` means the model's own, capped at 8192.
    pub context_length: Option<u32>,
    /// Tokens evaluated per llama.cpp batch during prompt processing.
    pub batch_size: u32,
    /// Layers offloaded to a GPU (only with the `cuda` feature).
    pub gpu_layers: u32,
    /// Flash attention: `None` lets llama.cpp decide per device.
    pub flash_attention: Option<bool>,
}

impl EngineConfig {
    pub fn new(model_path: PathBuf, card: ModelCard) -> Self {
        EngineConfig {
            model_path,
            card,
            threads: None,
            context_length: None,
            batch_size: 512,
            gpu_layers: 0,
            flash_attention: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("could not initialise llama.cpp: {0}")]
    Backend(String),
    #[error("could not load model file {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("could not create a llama.cpp context of {context_length} tokens: {reason}")]
    Context { context_length: u32, reason: String },
    #[error("the model's chat template does not compile: {0}")]
    Template(String),
}

/// Default sampling, as llama.cpp's own server uses.
const DEFAULT_TEMPERATURE: f32 = 0.8;
const DEFAULT_TOP_K: i32 = 40;
const DEFAULT_TOP_P: f32 = 0.95;
const DEFAULT_MIN_P: f32 = 0.05;
const DEFAULT_REPEAT_LAST_N: i32 = 64;
const MAX_DEFAULT_CONTEXT: u32 = 8192;
/// Tokens buffered between the worker and a slow client before the worker waits.
const STREAM_BUFFER: usize = 256;

fn llama_backend() -> Result<Arc<LlamaBackend>, EngineError> {
    // llama.cpp may be initialised once per process; engines loaded concurrently share it.
    static BACKEND: Mutex<Option<Arc<LlamaBackend>>> = Mutex::new(None);
    let mut slot = BACKEND
        .lock()
        .map_err(|_| EngineError::Backend("initialisation lock poisoned".into()))?;
    if let Some(backend) = slot.as_ref() {
        return Ok(backend.clone());
    }
    let mut backend =
        LlamaBackend::init().map_err(|error| EngineError::Backend(error.to_string()))?;
    backend.void_logs();
    let backend = Arc::new(backend);
    *slot = Some(backend.clone());
    Ok(backend)
}

/// One queued request, already tokenised.
struct Job {
    prompt_tokens: Vec<LlamaToken>,
    sampling: SamplingParams,
    max_tokens: u32,
    stop: Vec<String>,
    /// Constrains every token to the requested output format; `None` for free text.
    grammar: Option<LlamaSampler>,
    enqueued_at: Instant,
    events: async_mpsc::Sender<Result<GenerationEvent, WardError>>,
}

/// A GGUF model served in-process by llama.cpp.
pub struct EmbeddedEngine {
    backend_id: String,
    card: ModelCard,
    model: Arc<LlamaModel>,
    template: ChatTemplate,
    context_length: u32,
    jobs: mpsc::Sender<Job>,
    queued: Arc<AtomicUsize>,
    ready: Arc<AtomicBool>,
}

impl EmbeddedEngine {
    /// Loads the model and starts its worker thread; returns once the model is ready to serve.
    pub async fn load(backend_id: String, config: EngineConfig) -> Result<Self, EngineError> {
        let backend = llama_backend()?;
        let model_path = config.model_path.clone();
        let gpu_layers = config.gpu_layers;
        let loader_backend = backend.clone();
        let model = tokio::task::spawn_blocking(move || {
            let params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
            LlamaModel::load_from_file(&loader_backend, &model_path, &params)
        })
        .await
        .map_err(|error| EngineError::Backend(error.to_string()))?
        .map_err(|error| EngineError::Load {
            path: config.model_path.clone(),
            reason: error.to_string(),
        })?;
        let model = Arc::new(model);

        let template = chat_template_of(&model)?;
        let context_length = config
            .context_length
            .unwrap_or_else(|| model.n_ctx_train().min(MAX_DEFAULT_CONTEXT))
            .max(64);
        let threads = config.threads.unwrap_or_else(num_cpus::get_physical).max(1) as i32;
        let flash_attention = match config.flash_attention {
            None => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
            Some(true) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
            Some(false) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
        };
        let context_params = LlamaContextParams::default()
            .with_flash_attention_policy(flash_attention)
            .with_n_ctx(NonZeroU32::new(context_length))
            .with_n_batch(config.batch_size)
            .with_n_ubatch(config.batch_size)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);

        let (jobs, job_queue) = mpsc::channel::<Job>();
        let (started, started_result) = oneshot::channel();
        let ready = Arc::new(AtomicBool::new(false));
        let queued = Arc::new(AtomicUsize::new(0));
        let worker_model = model.clone();
        let worker_ready = ready.clone();
        let worker_queued = queued.clone();
        std::thread::Builder::new()
            .name(format!("ward-engine-{backend_id}"))
            .spawn(move || {
                let context = match worker_model.new_context(&backend, context_params) {
                    Ok(context) => context,
                    Err(error) => {
                        let _ = started.send(Err(EngineError::Context {
                            context_length,
                            reason: error.to_string(),
                        }));
                        return;
                    }
                };
                worker_ready.store(true, Ordering::SeqCst);
                let _ = started.send(Ok(()));
                let mut worker = Worker {
                    model: &worker_model,
                    context,
                };
                for job in job_queue {
                    worker_queued.fetch_sub(1, Ordering::SeqCst);
                    // A client that left while queued costs nothing.
                    if job.events.is_closed() {
                        continue;
                    }
                    worker.run(job);
                }
                worker_ready.store(false, Ordering::SeqCst);
            })
            .map_err(|error| EngineError::Backend(error.to_string()))?;
        started_result
            .await
            .map_err(|_| EngineError::Backend("engine thread exited".into()))??;

        tracing::info!(
            backend_id = %backend_id,
            model = %config.card.name,
            context_length,
            threads,
            "embedded model loaded"
        );
        Ok(EmbeddedEngine {
            backend_id,
            card: config.card,
            model,
            template,
            context_length,
            jobs,
            queued,
            ready,
        })
    }

    /// Requests waiting for the worker.
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    pub fn context_length(&self) -> u32 {
        self.context_length
    }

    /// Turns a prompt into the exact text the model sees.
    pub fn render_prompt(&self, prompt: &Prompt) -> Result<String, WardError> {
        let render = |messages: &[ward_core::ChatMessage]| {
            self.template.render(messages, true).map_err(|error| {
                WardError::invalid_request(format!(
                    "the model's chat template rejected this conversation: {}",
                    error.detail().unwrap_or("template error")
                ))
                .with_param("messages")
            })
        };
        match prompt {
            Prompt::Chat(messages) => render(messages),
            Prompt::Text {
                text, raw: true, ..
            } => Ok(text.clone()),
            Prompt::Text {
                text,
                system,
                raw: false,
            } if self.template.is_model_template => {
                let mut messages = Vec::new();
                if let Some(system) = system {
                    messages.push(ward_core::ChatMessage::new(
                        ward_core::ChatRole::System,
                        system.clone(),
                    ));
                }
                messages.push(ward_core::ChatMessage::new(
                    ward_core::ChatRole::User,
                    text.clone(),
                ));
                render(&messages)
            }
            // A base model continues text; there is no turn structure to apply.
            Prompt::Text {
                text,
                system,
                raw: false,
            } => Ok(match system {
                Some(system) => format!("{system}\n\n{text}"),
                None => text.clone(),
            }),
        }
    }

    /// The grammar sampler for an output format; `None` for free text. A schema grammar that
    /// llama.cpp refuses (the converter's tests say none should be) falls back to any JSON value:
    /// the server validates the answer against the schema in any case.
    fn grammar_sampler(&self, format: &OutputFormat) -> Option<LlamaSampler> {
        let grammar = crate::grammar::for_format(format)?;
        match LlamaSampler::grammar(&self.model, &grammar, "root") {
            Ok(sampler) => Some(sampler),
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    rules = grammar.lines().count(),
                    "llama.cpp refused the output format's grammar; constraining to any JSON value"
                );
                LlamaSampler::grammar(&self.model, &crate::grammar::any_json(), "root").ok()
            }
        }
    }

    /// Whether llama.cpp parses `grammar` (GBNF, rule `root`) and it admits `answer` as a
    /// complete answer, token by token as generation would meet it; `None` when the grammar does
    /// not parse. For tests of the grammar converter against the real grammar engine.
    pub fn grammar_admits(&self, grammar: &str, answer: &str) -> Option<bool> {
        let mut sampler = LlamaSampler::grammar(&self.model, grammar, "root").ok()?;
        let vocab = self.model.vocab();
        for token in vocab.tokenize(answer.as_bytes(), false, false) {
            if !grammar_allows(&mut sampler, token) {
                return Some(false);
            }
            sampler.accept(token);
        }
        Some(grammar_allows(&mut sampler, vocab.eos()))
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        // Templates usually write the BOS token themselves; llama.cpp adds another.
        if tokens.len() >= 2 && tokens[0] == vocab.bos() && tokens[1] == vocab.bos() {
            tokens.remove(0);
        }
        tokens
    }
}

fn chat_template_of(model: &LlamaModel) -> Result<ChatTemplate, EngineError> {
    let source = model.meta_val_str("tokenizer.chat_template").ok();
    let vocab = model.vocab();
    let token_text = |token: LlamaToken| {
        String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned()
    };
    let bos = token_text(vocab.bos());
    let eos = token_text(vocab.eos());
    ChatTemplate::new(source.as_deref(), &bos, &eos)
        .map_err(|error| EngineError::Template(error.to_string()))
}

#[async_trait::async_trait]
impl Backend for EmbeddedEngine {
    fn backend_id(&self) -> &str {
        &self.backend_id
    }

    fn loaded_models(&self) -> &[ModelCard] {
        std::slice::from_ref(&self.card)
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    async fn generate(&self, request: GenerationRequest) -> Result<GenerationStream, WardError> {
        if !self.card.answers_to(&request.model) {
            return Err(
                WardError::not_found(format!("model '{}' is not loaded", request.model))
                    .with_param("model"),
            );
        }
        let prompt_text = self.render_prompt(&request.prompt)?;
        let prompt_tokens = self.tokenize(&prompt_text);
        let prompt_length = prompt_tokens.len() as u32;
        if prompt_tokens.is_empty() {
            return Err(WardError::invalid_request("the prompt is empty").with_param("prompt"));
        }
        if prompt_length >= self.context_length {
            return Err(WardError::invalid_request(format!(
                "the prompt is {prompt_length} tokens; the context window is {} tokens",
                self.context_length
            ))
            .with_param("messages"));
        }
        let room = self.context_length - prompt_length;
        let max_tokens = request.max_tokens.map_or(room, |limit| limit.min(room));
        let grammar = self.grammar_sampler(&request.format);
        let (events, receiver) = async_mpsc::channel(STREAM_BUFFER);
        self.queued.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            prompt_tokens,
            sampling: request.sampling,
            max_tokens,
            stop: request.stop,
            grammar,
            enqueued_at: Instant::now(),
            events,
        };
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(WardError::new(
                ErrorKind::BackendUnavailable,
                "the embedded engine has stopped",
            ));
        }
        Ok(tokio_stream::wrappers::ReceiverStream::new(receiver).boxed())
    }
}

/// The worker thread's state: the model and its one context.
struct Worker<'model> {
    model: &'model LlamaModel,
    context: LlamaContext<'model>,
}

/// Why the worker stopped a job early.
enum Interrupted {
    ClientGone,
    Failed(WardError),
}

impl Worker<'_> {
    /// Serves one job; a failure, even a panic, ends that job only, never the worker.
    fn run(&mut self, job: Job) {
        let events = job.events.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.generate(job)));
        let error = match outcome {
            Ok(Ok(()) | Err(Interrupted::ClientGone)) => return,
            Ok(Err(Interrupted::Failed(error))) => error,
            Err(_) => WardError::internal("the engine failed on this request"),
        };
        tracing::warn!(error = %error, "embedded generation failed");
        let _ = events.blocking_send(Err(error));
    }

    fn generate(&mut self, job: Job) -> Result<(), Interrupted> {
        let started = Instant::now();
        let queued = started - job.enqueued_at;
        // Forget every cached position; zeroing the cache's memory as well would cost a pass over
        // hundreds of megabytes per request for nothing.
        self.context
            .clear_kv_cache_seq(None, None, None)
            .map_err(internal_failure)?;
        let n_context = self.context.n_ctx() as usize;
        let batch_capacity = self.context.n_batch() as usize;
        let mut batch = LlamaBatch::new(batch_capacity, 1);

        // Prompt evaluation in batch-sized chunks; logits only for the last prompt token.
        let prompt_length = job.prompt_tokens.len();
        for (chunk_index, chunk) in job.prompt_tokens.chunks(batch_capacity).enumerate() {
            batch.clear();
            for (offset, token) in chunk.iter().enumerate() {
                let position = chunk_index * batch_capacity + offset;
                batch
                    .add(*token, position as i32, &[0], position + 1 == prompt_length)
                    .map_err(internal_failure)?;
            }
            self.context.decode(&mut batch).map_err(decode_failure)?;
            if job.events.is_closed() {
                return Err(Interrupted::ClientGone);
            }
        }
        let prompt_evaluated = Instant::now();

        let mut sampler = build_sampler(self.model, &job.sampling);
        // The prompt feeds the penalties' history. The grammar is kept out of the chain: it
        // would reject the prompt, and it only ever sees generated tokens.
        sampler.accept_many(job.prompt_tokens.iter());
        let mut grammar = job.grammar;
        let mut candidates = LlamaTokenDataArray::new(Vec::new(), false);
        let vocab = self.model.vocab();
        let mut scanner = StopScanner::new(&job.stop);
        let mut pending_bytes = Vec::new();
        let mut completion_tokens = 0u32;
        let mut position = prompt_length;
        let finish_reason = loop {
            let index = batch.n_tokens() - 1;
            let token = match grammar.as_mut() {
                None => sampler.sample(&self.context, index),
                Some(grammar) => {
                    let logits = self.context.get_logits_ith(index);
                    sample_with_grammar(&mut sampler, grammar, logits, &mut candidates)?
                }
            };
            if vocab.is_eog(token) {
                break FinishReason::Stop;
            }
            completion_tokens += 1;
            vocab.token_to_piece_into(token, &mut pending_bytes, false, None);
            let piece = take_utf8_prefix(&mut pending_bytes);
            match scanner.push(&piece) {
                ScanOutcome::Continue(text) => send_delta(&job.events, text)?,
                ScanOutcome::Stopped(text) => {
                    send_delta(&job.events, text)?;
                    // Whatever follows the stop string is not output.
                    pending_bytes.clear();
                    break FinishReason::Stop;
                }
            }
            if completion_tokens >= job.max_tokens || position + 1 >= n_context {
                break FinishReason::Length;
            }
            batch.clear();
            batch
                .add(token, position as i32, &[0], true)
                .map_err(internal_failure)?;
            position += 1;
            self.context.decode(&mut batch).map_err(decode_failure)?;
        };
        // Text held back as a possible stop string, and any incomplete UTF-8, is real output
        // when generation ended for another reason (after a stop string both are empty).
        let mut rest = scanner.finish();
        rest.push_str(&String::from_utf8_lossy(&pending_bytes));
        send_delta(&job.events, rest)?;
        let finished = Instant::now();
        let summary = GenerationSummary {
            finish_reason,
            usage: Usage {
                prompt_tokens: prompt_length as u32,
                completion_tokens,
            },
            timings: Timings {
                queued,
                prompt_eval: prompt_evaluated - started,
                generation: finished - prompt_evaluated,
                upstream: None,
            },
        };
        job.events
            .blocking_send(Ok(GenerationEvent::Done(summary)))
            .map_err(|_| Interrupted::ClientGone)
    }
}

/// One token under a grammar, in llama.cpp's own order (`common_sampler_sample`): the chain
/// picks freely and the pick stands when the grammar allows it (the common case, and the cheap
/// one: the grammar checks one token, not the whole vocabulary); otherwise the grammar masks
/// every candidate first and the chain picks again among what it allows.
///
/// `apply` selects without accepting, so the chain and the grammar each accept the chosen token
/// exactly once, here. (`LlamaSampler::sample` accepts on its own; accepting a token twice
/// advances the grammar twice and corrupts its state, and accepting a token the grammar does
/// not allow aborts inside llama.cpp, so that is never done either.)
fn sample_with_grammar(
    chain: &mut LlamaSampler,
    grammar: &mut LlamaSampler,
    logits: &[f32],
    candidates: &mut LlamaTokenDataArray,
) -> Result<LlamaToken, Interrupted> {
    fill_candidates(candidates, logits);
    chain.apply(candidates);
    let mut token = candidates
        .selected_token()
        .ok_or_else(|| internal_failure("the sampler chose no token"))?;
    if !grammar_allows(grammar, token) {
        fill_candidates(candidates, logits);
        grammar.apply(candidates);
        chain.apply(candidates);
        token = candidates
            .selected_token()
            .ok_or_else(|| internal_failure("the sampler chose no token"))?;
        // A grammar with no way forward masks every candidate and the pick is arbitrary.
        if !grammar_allows(grammar, token) {
            return Err(internal_failure(
                "the output format's grammar allows no next token",
            ));
        }
    }
    grammar.accept(token);
    chain.accept(token);
    Ok(token)
}

/// Every token with its logit, unsorted, nothing selected: what a sampler starts from.
fn fill_candidates(candidates: &mut LlamaTokenDataArray, logits: &[f32]) {
    candidates.data.clear();
    candidates.data.extend(
        logits
            .iter()
            .enumerate()
            .map(|(id, logit)| LlamaTokenData::new(LlamaToken(id as i32), *logit, 0.0)),
    );
    candidates.selected = None;
    candidates.sorted = false;
}

/// Whether the grammar, in its current state, allows `token` next (the grammar masks a token
/// it rejects with a logit of minus infinity).
fn grammar_allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 0.0)], false);
    grammar.apply(&mut single);
    single
        .data
        .first()
        .is_some_and(|data| data.logit().is_finite())
}

fn send_delta(
    events: &async_mpsc::Sender<Result<GenerationEvent, WardError>>,
    text: String,
) -> Result<(), Interrupted> {
    if text.is_empty() {
        return Ok(());
    }
    events
        .blocking_send(Ok(GenerationEvent::Delta(text)))
        .map_err(|_| Interrupted::ClientGone)
}

fn internal_failure(error: impl std::fmt::Display) -> Interrupted {
    Interrupted::Failed(WardError::internal(error.to_string()))
}

fn decode_failure(error: llama_cpp_2::DecodeError) -> Interrupted {
    Interrupted::Failed(WardError::new(
        ErrorKind::BackendUnavailable,
        format!("llama.cpp could not evaluate the batch: {error}"),
    ))
}

/// The sampler chain llama.cpp's server uses: penalties, then top-k, top-p, min-p, temperature,
/// and a seeded draw; temperature 0 means greedy.
fn build_sampler(model: &LlamaModel, sampling: &SamplingParams) -> LlamaSampler {
    let mut chain = Vec::new();
    let repeat_penalty = sampling.repeat_penalty.unwrap_or(1.0);
    let frequency_penalty = sampling.frequency_penalty.unwrap_or(0.0);
    let presence_penalty = sampling.presence_penalty.unwrap_or(0.0);
    if repeat_penalty != 1.0 || frequency_penalty != 0.0 || presence_penalty != 0.0 {
        chain.push(LlamaSampler::penalties(
            model.n_vocab(),
            sampling
                .repeat_last_n
                .unwrap_or(DEFAULT_REPEAT_LAST_N)
                .max(0),
            repeat_penalty.max(f32::MIN_POSITIVE),
            frequency_penalty,
            presence_penalty,
        ));
    }
    let temperature = sampling.temperature.unwrap_or(DEFAULT_TEMPERATURE);
    if temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
        return LlamaSampler::chain_simple(chain);
    }
    let top_k = sampling.top_k.unwrap_or(DEFAULT_TOP_K);
    if top_k > 0 {
        chain.push(LlamaSampler::top_k(top_k));
    }
    chain.push(LlamaSampler::top_p(
        sampling.top_p.unwrap_or(DEFAULT_TOP_P).clamp(0.0, 1.0),
        1,
    ));
    chain.push(LlamaSampler::min_p(
        sampling.min_p.unwrap_or(DEFAULT_MIN_P).clamp(0.0, 1.0),
        1,
    ));
    chain.push(LlamaSampler::temp(temperature));
    let seed = sampling.seed.unwrap_or_else(random_seed);
    chain.push(LlamaSampler::dist(seed));
    LlamaSampler::chain_simple(chain)
}

fn random_seed() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}
