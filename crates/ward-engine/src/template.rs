//! Chat templates: the model's own Jinja template from its GGUF metadata, rendered with
//! minijinja (with Python string methods, as Hugging Face templates expect).

use minijinja::{context, Environment, ErrorKind as JinjaErrorKind};
use serde::Serialize;
use ward_core::{ChatMessage, ChatRole};

const TEMPLATE_NAME: &str = "chat";

/// Used for models whose GGUF carries no chat template (base models): a plain transcript.
const TRANSCRIPT_TEMPLATE: &str = "{% for message in messages %}{{ message.role | capitalize }}: {{ message.content }}\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

/// A compiled chat template plus the special tokens it may refer to.
pub struct ChatTemplate {
    environment: Environment<'static>,
    bos_token: String,
    eos_token: String,
    /// False when the model had no template and the plain transcript is used.
    pub is_model_template: bool,
}

#[derive(Serialize)]
struct TemplateMessage<'a> {
    role: &'a str,
    content: &'a str,
}

impl ChatTemplate {
    /// Compiles `source`, or the plain transcript template when the model has none.
    pub fn new(
        source: Option<&str>,
        bos_token: &str,
        eos_token: &str,
    ) -> Result<Self, minijinja::Error> {
        let mut environment = Environment::new();
        environment.set_trim_blocks(true);
        environment.set_lstrip_blocks(true);
        minijinja_contrib::add_to_environment(&mut environment);
        environment
            .set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        environment.add_function(
            "raise_exception",
            |message: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    JinjaErrorKind::InvalidOperation,
                    message,
                ))
            },
        );
        let is_model_template = source.is_some();
        environment.add_template_owned(
            TEMPLATE_NAME,
            source.unwrap_or(TRANSCRIPT_TEMPLATE).to_owned(),
        )?;
        Ok(ChatTemplate {
            environment,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
            is_model_template,
        })
    }

    /// Renders a conversation, ending with the assistant's turn opened when asked.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, minijinja::Error> {
        let messages: Vec<TemplateMessage<'_>> = messages
            .iter()
            .map(|message| TemplateMessage {
                // Templates know "system"; OpenAI's newer "developer" role means the same.
                role: match message.role {
                    ChatRole::Developer => "system",
                    role => role.as_str(),
                },
                content: &message.content,
            })
            .collect();
        let template = self.environment.get_template(TEMPLATE_NAME)?;
        template.render(context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /// Shaped like Qwen2.5's: a default system prompt, `.startswith`, loop variables.
    const QWEN_LIKE: &str = r#"{%- if messages[0]['role'] == 'system' %}
    {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
{%- else %}
    {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if message.role == "user" or (message.role == "system" and not loop.first) or message.role == "assistant" %}
        {{- '<|im_start|>' + message.role + '\n' + message.content.strip() + '<|im_end|>' + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;

    fn conversation() -> Vec<ChatMessage> {
        vec![
            ChatMessage::new(ChatRole::System, "Be brief."),
            ChatMessage::new(ChatRole::User, " Hello "),
        ]
    }

    #[test]
    fn chatml_renders_every_turn_and_the_generation_prompt() {
        let template = ChatTemplate::new(Some(CHATML), "", "<|im_end|>").unwrap();
        let text = template.render(&conversation(), true).unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hello <|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_string_methods_and_default_system_prompt_work() {
        let template = ChatTemplate::new(Some(QWEN_LIKE), "", "").unwrap();
        let text = template
            .render(&[ChatMessage::new(ChatRole::User, " Hi ")], true)
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn models_without_a_template_get_a_plain_transcript() {
        let template = ChatTemplate::new(None, "<bos>", "<eos>").unwrap();
        assert!(!template.is_model_template);
        let text = template.render(&conversation(), true).unwrap();
        assert_eq!(text, "System: Be brief.\nUser:  Hello \nAssistant:");
    }

    #[test]
    fn raise_exception_becomes_an_error_not_a_panic() {
        let template = ChatTemplate::new(
            Some("{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}"),
            "",
            "",
        )
        .unwrap();
        assert!(template.render(&conversation(), true).is_err());
    }

    #[test]
    fn broken_template_source_is_an_error() {
        assert!(ChatTemplate::new(Some("{% for %}"), "", "").is_err());
    }
}
