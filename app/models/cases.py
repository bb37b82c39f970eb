"""Process definitions, cases, the human tasks projected from them, and the case timeline.

A definition is stored once per version; a case stores only its own serialized state (no spec), a
version column for optimistic locking and the time of its next timer, so work queues and the timer
job are plain indexed queries.
"""
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Account
from app.models.types import UTCDateTime, utcnow
from app.models.users import User


class ProcessDefinition(db.Model):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # the BPMN process id
    version: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    case_prefix: Mapped[str] = mapped_column(String(10))  # "ТП" in ТП-2026-000123
    # Deferred: every engine step loads the case with its definition, and needs only the id and hash.
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(String(300))
    deployed_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    deployed_by: Mapped[User | None] = relationship(foreign_keys=[deployed_by_id])


class CaseNumberCounter(db.Model):
    """The last number given per prefix and year; taken under a row lock so numbers never repeat."""

    __tablename__ = "case_number_counter"
    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class ProcessDraft(db.Model):
    """The one shared draft of a process that analysts edit in the modeler before deploying it.

    `revision` counts saves: a save names the revision it started from, and a guarded UPDATE refuses
    it when another analyst saved meanwhile, so nobody's edit is lost without them being told.
    """

    __tablename__ = "process_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # the BPMN process id
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id", ondelete="SET NULL"))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)
    comment: Mapped[str] = mapped_column(String(300), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    base: Mapped[ProcessDefinition | None] = relationship()
    updated_by: Mapped[User | None] = relationship()


class Case(db.Model):
    __tablename__ = "case"
    __table_args__ = (Index("ix_case_next_timer", "next_timer_at"), Index("ix_case_applicant", "applicant_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed | cancelled
    status_label: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime())
    due_at: Mapped[object | None] = mapped_column(UTCDateTime())
    next_timer_at: Mapped[object | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")
    applicant: Mapped[User | None] = relationship()
    account: Mapped[Account | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class HumanTask(db.Model):
    """A READY user task of a case, as the work queues and the applicant's page see it."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_queue", "status", "candidate_group", "due_at"),
        Index("ix_human_task_assignee", "assignee_id", "status"),
        UniqueConstraint("task_uuid"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    spec: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    form_key: Mapped[str | None] = mapped_column(String(80))
    candidate_group: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(12), default="staff")  # staff | applicant
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | done | cancelled
    due_at: Mapped[object | None] = mapped_column(UTCDateTime())
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[object | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])


class CaseEvent(db.Model):
    """The case's timeline: every action with actor, time and the status before and after."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(200))
    to_status: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class CaseDocument(db.Model):
    """A file on a case: generated (contract, act) or uploaded (a form's attachment). The bytes live
    in the content-addressed file store under their SHA-256; never under a name the user chose."""

    __tablename__ = "case_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # generated | upload
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    template: Mapped[str | None] = mapped_column(String(80))
    template_version: Mapped[str | None] = mapped_column(String(20))
    visible_to_applicant: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class OutboxMessage(db.Model):
    """A call to an outside system, written in the same transaction as the case step that decided
    it, and delivered afterwards by a Celery job with retries. One that keeps failing becomes an
    incident that an administrator can retry: the case is never lost."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(60))  # the deliverer's name
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    reply_message: Mapped[str | None] = mapped_column(String(80))  # BPMN message correlated with the answer
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent | incident
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime())


class ApplicationDraft(db.Model):
    """An application being filled in: kept between the form and the "check your answers" page (and
    until the applicant comes back), so that nothing typed or attached is lost. Files are already in
    the file store; the values hold their SHA-256."""

    __tablename__ = "application_draft"
    __table_args__ = (UniqueConstraint("user_id", "process_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    process_key: Mapped[str] = mapped_column(String(80))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    account: Mapped[Account | None] = relationship()


class FormVersion(db.Model):
    """A deployed version of a task form (the JSON of bpmn/forms/<key>.json): stored once, never changed.

    Pages use the latest version of each key; `sha256` is taken over the canonical JSON, so deploying
    the same form again (even laid out differently) is no new version.
    """

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # the formKey of the user tasks
    version: Mapped[int] = mapped_column()
    # Deferred: the latest versions are looked up on every task page, their text only on a cache miss.
    definition: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(String(300))
    deployed_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    deployed_by: Mapped[User | None] = relationship(foreign_keys=[deployed_by_id])


class ProcessMigration(db.Model):
    """A batch job moving the open cases of one version of a process to another, with its progress.

    `errors` lists the cases left where they were, with the reason, so the analyst can see what
    stopped them; the job may be run again at any time (moved cases are no longer on the old version).
    """

    __tablename__ = "process_migration"
    __table_args__ = (Index("ix_process_migration_key", "key", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # the BPMN process id
    from_version: Mapped[int] = mapped_column()
    to_version: Mapped[int] = mapped_column()
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[object | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime())
    total: Mapped[int] = mapped_column(default=0)  # open cases on the old version when the job began
    moved: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | running | done | failed
    errors: Mapped[list] = mapped_column(JSON, default=list)

    requested_by: Mapped[User | None] = relationship()
