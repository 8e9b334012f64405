"""QA writing, shared by multidoc and paper-qa: the offline extractive writer, the LLM
writer on top of the chat client, reply parsing and quote pinning."""
from .base import QA, Generator, QARequest, Reject


def qa_writer(options, chat) -> Generator:
    """The QA writer of a run: the LLM on the run's chat client, or offline the extractive one."""
    if chat is None:
        from .extractive import ExtractiveGenerator

        return ExtractiveGenerator()
    from .llm_writer import LLMQAWriter

    return LLMQAWriter(chat, temperature=options.llm_temperature, max_tokens=options.llm_max_tokens)


__all__ = ["QA", "Generator", "QARequest", "Reject", "qa_writer"]
