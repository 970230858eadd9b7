//! `ward run`: a terminal chat with one model, in process (no server), like `ollama run`.
//! With a prompt argument it answers once and exits, which makes it scriptable.

use std::io::{BufRead, Write};

use anyhow::Context;
use futures::StreamExt;
use ward_core::{
    Backend, ChatMessage, ChatRole, GenerationEvent, GenerationRequest, SamplingParams,
};
use ward_engine::EmbeddedEngine;

use crate::config::Config;
use crate::pull::{ensure_model, open_store};
use crate::serve::{engine_config, runtime};

pub struct RunOptions {
    pub model: String,
    pub prompt: Option<String>,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    pub system: Option<String>,
}

pub fn run(config: &Config, options: RunOptions) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let manifest = ensure_model(config, &store, &options.model)?;
    runtime()?.block_on(async {
        let engine = EmbeddedEngine::load(
            "run".into(),
            engine_config(&store, &manifest, &config.engine),
        )
        .await
        .with_context(|| format!("could not load model {}", manifest.name))?;
        let mut conversation = Vec::new();
        if let Some(system) = &options.system {
            conversation.push(ChatMessage::new(ChatRole::System, system.clone()));
        }
        if let Some(prompt) = &options.prompt {
            conversation.push(ChatMessage::new(ChatRole::User, prompt.clone()));
            answer(&engine, &manifest.name, &options, &conversation).await?;
            return Ok(());
        }
        eprintln!(
            "chatting with {} — type /bye or press Ctrl-D to leave",
            manifest.name
        );
        let stdin = std::io::stdin();
        loop {
            eprint!(">>> ");
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 {
                break;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line == "/bye" {
                break;
            }
            conversation.push(ChatMessage::new(ChatRole::User, line));
            let reply = answer(&engine, &manifest.name, &options, &conversation).await?;
            conversation.push(ChatMessage::new(ChatRole::Assistant, reply));
        }
        Ok(())
    })
}

/// Streams one answer to stdout and returns it.
async fn answer(
    engine: &EmbeddedEngine,
    model: &str,
    options: &RunOptions,
    conversation: &[ChatMessage],
) -> anyhow::Result<String> {
    let request = GenerationRequest {
        sampling: SamplingParams {
            temperature: options.temperature,
            ..SamplingParams::default()
        },
        max_tokens: Some(options.max_tokens),
        ..GenerationRequest::chat(model, conversation.to_vec())
    };
    let mut stream = engine.generate(request).await?;
    let mut reply = String::new();
    let mut stdout = std::io::stdout();
    while let Some(event) = stream.next().await {
        match event? {
            GenerationEvent::Delta(text) => {
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
                reply.push_str(&text);
            }
            GenerationEvent::Done(_) => break,
        }
    }
    writeln!(stdout)?;
    Ok(reply)
}
