"""Test runs: a process diagram tried on sample data by an analyst, apart from real cases.

A run keeps its own copy of the diagram (a draft changes under it) and the workflow's serialized
state without the spec, as cases do; `steps` is the history shown on the page. Runs are scratch
work: those untouched for a day are deleted when someone starts a new one.
"""
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.models.users import User


class ProcessTestRun(db.Model):
    __tablename__ = "process_test_run"
    __table_args__ = (Index("ix_process_test_run_updated_at", "updated_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID: run pages are not guessable
    key: Mapped[str] = mapped_column(String(80), index=True)  # the BPMN process id
    xml: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[User] = relationship()
