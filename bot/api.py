"""The REST API: `POST /api/ask` and `GET /api/health` (documented at /docs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from policybot.bot.limits import BusyError, ConcurrencyGate
from policybot.bot.service import MAX_QUESTION_CHARS, QuestionError, check_question

BUSY_RETRY_SECONDS = 2


class AskRequest(BaseModel):
    question: str = Field(description=f"The question, in Chinese or English (1–{MAX_QUESTION_CHARS} characters).",
                          examples=["Which districts host brain-computer interface work?"])
    k: int | None = Field(default=None, ge=1, le=50, description="Passages to retrieve (default: the server's k).")
    llm: bool | None = Field(default=None, description="Use the configured LLM (default: yes when one is set).")


class CitationOut(BaseModel):
    n: int = Field(description="The number used as [n] in the answer.")
    chunk_id: str
    doc_id: str
    section: list[str] = Field(description="Heading path of the cited passage.")
    quote: str = Field(description="The exact cited sentence.")
    text: str = Field(description="The whole cited passage (contains the quote).")
    start: int = Field(description="The quote's start offset in the cleaned document.")
    end: int
    score: float


class AnswerOut(BaseModel):
    question: str
    answer: str
    abstained: bool = Field(description="True when the documents do not say; the answer then says so.")
    language: str
    citations: list[CitationOut]


class ErrorOut(BaseModel):
    detail: str


def api_router(bot: Any, gate: ConcurrencyGate) -> APIRouter:
    """Routes bound to one bot; answering runs in a worker thread behind the concurrency gate."""
    router = APIRouter(prefix="/api", tags=["api"])

    @router.post(
        "/ask",
        response_model=AnswerOut,
        summary="Answer a question, citing source sentences",
        responses={
            413: {"model": ErrorOut, "description": "Request body too large"},
            422: {"model": ErrorOut, "description": "Empty or over-long question, or invalid fields"},
            429: {"model": ErrorOut, "description": "Too many questions from this client (see Retry-After)"},
            503: {"model": ErrorOut, "description": "Server busy; try again (see Retry-After)"},
        },
    )
    async def ask(req: AskRequest) -> dict[str, object]:
        try:
            question = check_question(req.question)
        except QuestionError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        try:
            async with gate.slot():
                answer = await run_in_threadpool(bot.answer, question, k=req.k, use_llm=req.llm)
        except BusyError as exc:
            raise HTTPException(503, detail=str(exc), headers={"Retry-After": str(BUSY_RETRY_SECONDS)}) from None
        except QuestionError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return dict(answer.to_dict())

    @router.get("/health", summary="Index, model and counts")
    async def health() -> dict[str, object]:
        info = dict(bot.health())
        info["busy"] = {"answering": gate.running, "waiting": gate.waiting,
                        "max_concurrency": gate.limit, "max_queue": gate.queue}
        return info

    return router
