"""Cases as people meet them: who may see a case or work a task, the work queues, and turning a
submitted form into task data (files go to the file store and onto the case as documents)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app import policy
from app.extensions import db
from app.models import AccountAccess, Case, CaseDocument, CaseEvent, HumanTask, User
from app.models.types import utcnow
from app.services import audit, file_store
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.periods import local_today
from workflows import engine

TEAM_LEAD_GROUP = "team_lead"


def _held_now(user: User):
    """The accounts the user has today: not revoked, and not passed to a new owner."""
    today = local_today()
    return (AccountAccess.user_id == user.id, AccountAccess.revoked_at.is_(None),
            or_(AccountAccess.valid_from.is_(None), AccountAccess.valid_from <= today),
            or_(AccountAccess.valid_until.is_(None), AccountAccess.valid_until > today))


def can_see_case(user: User, case: Case) -> bool:
    if policy.has_permission(user, "tasks.work") or policy.has_permission(user, "accounts.read_any"):
        return True
    if case.applicant_id == user.id:
        return True
    return case.account_id is not None and db.session.scalar(select(AccountAccess.id).where(
        AccountAccess.account_id == case.account_id, *_held_now(user))) is not None


def case_for(user: User, number: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not can_see_case(user, case):
        if case is not None:
            audit.record("access.denied", actor=user, obj=case, outcome="denied", commit=True)
        raise NotFound(_l("No such case among yours."))
    return case


def cases_of(user: User) -> list[Case]:
    accounts = select(AccountAccess.account_id).where(*_held_now(user))
    return list(db.session.scalars(select(Case).where(
        or_(Case.applicant_id == user.id, Case.account_id.in_(accounts))).order_by(Case.opened_at.desc())))


def groups_of(user: User) -> set[str]:
    groups = {g.code for g in user.groups}
    if policy.TEAM_LEAD in user.roles:
        groups.add(TEAM_LEAD_GROUP)
    return groups


def may_work(user: User, task: HumanTask) -> bool:
    """A staff task: its assignee, or anyone of its group while it is unassigned; leads and admins always."""
    if task.actor != "staff" or not policy.has_permission(user, "tasks.work") and policy.ADMIN not in user.roles:
        return False
    if policy.has_permission(user, "tasks.reassign"):
        return True
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return task.candidate_group is None or task.candidate_group in groups_of(user)


def queue(user: User, scope: str = "mine", process: str | None = None, overdue: bool = False,
          due_within_days: int | None = None, limit: int = 200) -> list[HumanTask]:
    query = select(HumanTask).join(Case).where(HumanTask.status == "open", HumanTask.actor == "staff")
    if scope == "mine":
        query = query.where(HumanTask.assignee_id == user.id)
    elif scope == "groups":
        query = query.where(HumanTask.candidate_group.in_(groups_of(user)))
    elif not policy.has_permission(user, "tasks.reassign"):
        raise Forbidden(_l("Only team leads see every queue."))
    if process:
        query = query.join(Case.definition).where(Case.definition.has(key=process))
    now = utcnow()
    if overdue:
        query = query.where(HumanTask.due_at < now)
    if due_within_days is not None:
        query = query.where(HumanTask.due_at <= now + timedelta(days=due_within_days))
    return list(db.session.scalars(query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
                                   .limit(limit)))


def task_for(user: User, task_id: int) -> HumanTask:
    task = db.session.get(HumanTask, task_id)
    if task is None or not can_see_case(user, task.case):
        raise NotFound(_l("No such task."))
    return task


def claim(user: User, task_id: int) -> HumanTask:
    task = task_for(user, task_id)
    if task.status != "open":
        raise Conflict(_l("This task is already closed."))
    if task.assignee_id not in (None, user.id):
        raise Conflict(_l("This task is already taken by %(who)s.", who=task.assignee.full_name))
    if not may_work(user, task):
        raise Forbidden(_l("This task belongs to another group."))
    task.assignee_id = user.id
    db.session.add(CaseEvent(case_id=task.case_id, kind="task_claimed", actor_id=user.id, details={"task": task.spec}))
    db.session.commit()
    return task


def unclaim(user: User, task_id: int) -> HumanTask:
    task = task_for(user, task_id)
    if task.assignee_id != user.id and not policy.has_permission(user, "tasks.reassign"):
        raise Forbidden(_l("Only the assignee or a team lead can return a task to the queue."))
    task.assignee_id = None
    db.session.add(CaseEvent(case_id=task.case_id, kind="task_unclaimed", actor_id=user.id, details={"task": task.spec}))
    db.session.commit()
    return task


def assign(lead: User, task_id: int, assignee_id: int) -> HumanTask:
    if not policy.has_permission(lead, "tasks.reassign"):
        raise Forbidden(_l("Only team leads reassign tasks."))
    task = task_for(lead, task_id)
    assignee = db.session.get(User, assignee_id)
    if assignee is None or not policy.has_permission(assignee, "tasks.work"):
        raise NotFound(_l("No such specialist."))
    before = task.assignee_id
    task.assignee_id = assignee.id
    db.session.add(CaseEvent(case_id=task.case_id, kind="task_assigned", actor_id=lead.id,
                             details={"task": task.spec, "from": before, "to": assignee.id}))
    audit.record("case.task.assign", actor=lead, obj=task.case, details={"task": task.id, "to": assignee.id})
    db.session.commit()
    return task


def _store_files(case: Case, user: User, values: dict) -> dict:
    """File values become documents on the case; the task data keeps a reference, not the bytes."""
    clean = {}
    for name, value in values.items():
        if isinstance(value, dict) and "data" in value:
            saved = file_store.save(value["data"])
            document = CaseDocument(case_id=case.id, kind="upload", title=value.get("filename") or name,
                                    filename=value.get("filename") or name, content_type=value["content_type"],
                                    size=saved.size, sha256=saved.sha256, created_by_id=user.id)
            db.session.add(document)
            db.session.flush()
            clean[name] = {"document_id": document.id, "filename": document.filename, "sha256": saved.sha256}
        else:
            clean[name] = value
    return clean


def complete(user: User, task_id: int, values: dict) -> Case:
    task = task_for(user, task_id)
    if task.actor == "applicant":
        if policy.is_staff(user):
            raise Forbidden(_l("This step is for the applicant."))
    elif not may_work(user, task):
        raise Forbidden(_l("This task belongs to another group."))
    return engine.complete_task(task.id, user, _store_files(task.case, user, values))


def start(user: User, process_key: str, values: dict, account=None) -> Case:
    """File an application: the start form's values become the case's first data. A file comes either
    as its bytes (`data`, from the API) or already stored (`sha256`, from a draft)."""
    files = {name: value for name, value in values.items()
             if isinstance(value, dict) and ("data" in value or "sha256" in value)}
    data = {name: value for name, value in values.items() if name not in files}
    stored = {}
    for name, value in files.items():
        if "data" in value:
            saved = file_store.save(value["data"])
            sha256, size = saved.sha256, saved.size
        else:
            sha256, size = value["sha256"], value["size"]
        stored[name] = {"filename": value.get("filename") or name, "content_type": value["content_type"],
                        "size": size, "sha256": sha256}
    data.update({name: {"filename": f["filename"], "sha256": f["sha256"]} for name, f in stored.items()})
    case = engine.start_case(process_key, applicant=user, account=account, data=data)
    for name, f in stored.items():
        db.session.add(CaseDocument(case_id=case.id, kind="upload", title=f["filename"], filename=f["filename"],
                                    content_type=f["content_type"], size=f["size"], sha256=f["sha256"],
                                    created_by_id=user.id))
    if stored:
        db.session.commit()
    return case


def timeline(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def documents(case: Case, user: User) -> list[CaseDocument]:
    query = select(CaseDocument).where(CaseDocument.case_id == case.id).order_by(CaseDocument.id)
    if not policy.is_staff(user):
        query = query.where(CaseDocument.visible_to_applicant)
    return list(db.session.scalars(query))


def document_for(user: User, case: Case, document_id: int) -> CaseDocument:
    document = db.session.get(CaseDocument, document_id)
    if document is None or document.case_id != case.id or (not document.visible_to_applicant and not policy.is_staff(user)):
        raise NotFound(_l("No such document."))
    return document


def open_tasks(case: Case) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
                                   .order_by(HumanTask.id)))


def overdue_digest(now=None) -> dict[int, list[HumanTask]]:
    """Overdue open staff tasks per specialist: their own, and for group tasks nobody has taken, every
    member of the group, so nothing overdue goes unseen."""
    from app.models import StaffGroup, user_group

    now = now or utcnow()
    late = list(db.session.scalars(select(HumanTask).where(HumanTask.status == "open", HumanTask.actor == "staff",
                                                           HumanTask.due_at < now).order_by(HumanTask.due_at)))
    digest: dict[int, list[HumanTask]] = {}
    for task in late:
        if task.assignee_id:
            people = [task.assignee_id]
        elif task.candidate_group == TEAM_LEAD_GROUP:
            people = list(db.session.scalars(select(User.id).join(User.role_rows).where(
                User.role_rows.any(role=policy.TEAM_LEAD))))
        else:
            people = list(db.session.scalars(select(user_group.c.user_id).join(
                StaffGroup, StaffGroup.id == user_group.c.group_id).where(StaffGroup.code == task.candidate_group)))
        for person in people:
            digest.setdefault(person, []).append(task)
    return digest


def send_overdue_digest(now=None) -> int:
    """The daily letter to each specialist with their overdue work."""
    from flask import render_template
    from flask_babel import force_locale

    from app.tasks import enqueue
    from app.tasks.notify import send_email

    sent = 0
    for user_id, tasks in overdue_digest(now).items():
        user = db.session.get(User, user_id)
        if user is None or user.is_blocked:
            continue
        with force_locale(user.locale or "ru"):
            text = render_template("email/overdue.txt", user=user, tasks=tasks)
        subject, _, body = text.partition("\n\n")
        enqueue(send_email, user.email, subject.strip(), body.strip() + "\n")
        sent += 1
    return sent


MESSAGE_MAX = 4000
ATTACHMENT_MAX_MB = 10
ATTACHMENT_TYPES = {"application/pdf", "image/png", "image/jpeg"}


def post_message(user: User, case: Case, text: str, attachment: tuple[str, bytes] | None = None) -> CaseEvent:
    """A message on the case between the applicant and the specialists, optionally with a file
    (PDF, PNG or JPEG, checked by its content)."""
    from app.services.errors import InvalidInput

    text = (text or "").strip()
    if not text and attachment is None:
        raise InvalidInput(_l("Write a message or attach a file."), field="text")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(_l("The message is too long (at most %(n)d characters).", n=MESSAGE_MAX), field="text")
    if not can_see_case(user, case) or (not policy.is_staff(user) and case.status != "open"):
        raise Forbidden(_l("Messages can be written while the case is open."))
    document_id = None
    if attachment is not None:
        filename, data = attachment
        if len(data) > ATTACHMENT_MAX_MB * 1024 * 1024:
            raise InvalidInput(_l("The file is larger than %(n)d MB.", n=ATTACHMENT_MAX_MB), field="attachment")
        content_type = file_store.sniff(data)
        if content_type not in ATTACHMENT_TYPES:
            raise InvalidInput(_l("Attach a PDF, PNG or JPEG file."), field="attachment")
        saved = file_store.save(data)
        safe_name = (filename or "file").replace("/", "_").replace("\\", "_")[-100:]
        document = CaseDocument(case_id=case.id, kind="upload", title=safe_name, filename=safe_name,
                                content_type=content_type, size=saved.size, sha256=saved.sha256, created_by_id=user.id)
        db.session.add(document)
        db.session.flush()
        document_id = document.id
    event = CaseEvent(case_id=case.id, kind="comment", actor_id=user.id,
                      details={"text": text, "document_id": document_id,
                               "side": "staff" if policy.is_staff(user) else "applicant"})
    db.session.add(event)
    audit.record("case.message", actor=user, obj=case, details={"document_id": document_id})
    db.session.commit()
    return event


def open_tasks_of(case_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")
                                   .order_by(HumanTask.id)))
